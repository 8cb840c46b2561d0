"""POST /hubspot/workflow-actions/<action> with hostile or broken input.

No valid signature → 401, nothing recorded. Signed but unusable → 200 with
`hs_execution_state: FAIL_CONTINUE` and the reason in `fortnox_error` (what the workflow's
history shows), recorded as rejected, and no run.
"""

from __future__ import annotations

import json

import pytest

from sync.models import InboundRejection, Run
from sync.views import WORKFLOW_BODY_MAX_BYTES
from tests.sync.test_webhook_receiver import (  # noqa: F401 (portal: the fixture used below)
    portal,
    signed_post,
)

pytestmark = pytest.mark.usefixtures("portal")  # portal 555, installed

PATH = "/hubspot/workflow-actions/create-invoice"


def execution(**changes) -> dict:
    """HubSpot's documented execution request (hubspot-api.md Addendum §4), for deal 614."""
    request = {
        "callbackId": "ap-555-56777914962-11-0",
        "origin": {
            "portalId": 555,
            "actionDefinitionId": 10860211,
            "actionDefinitionVersion": 1,
            "extensionDefinitionId": 10860211,
            "extensionDefinitionVersionId": 1,
        },
        "context": {"source": "WORKFLOWS", "workflowId": 192814114},
        "object": {"objectId": 614, "objectType": "DEAL"},
        "inputFields": {},
    }
    for path, value in changes.items():
        *parents, name = path.split("__")
        target = request
        for parent in parents:
            target = target[parent]
        target[name] = value
    return request


def post(client, body: str | bytes, path: str = PATH, **kwargs):
    return signed_post(client, path, body, **kwargs)


def test_the_documented_request_starts_a_run_and_blocks(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = post(client, json.dumps(execution()))
    assert response.status_code == 200
    assert response.json() == {"outputFields": {"hs_execution_state": "BLOCK"}}
    run = Run.objects.get()
    assert (run.subject_id, run.trigger, run.trigger_key) == (
        "614",
        "workflow",
        "workflow:ap-555-56777914962-11-0",
    )
    assert InboundRejection.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"X-HubSpot-Request-Timestamp": "²²²²²²²²²²²²²"},
        {"X-HubSpot-Request-Timestamp": "٣" * 13},
        {"X-HubSpot-Request-Timestamp": "1" * 4000},
        {"X-HubSpot-Request-Timestamp": "-1"},
        {"X-HubSpot-Request-Timestamp": ""},
        {"X-HubSpot-Signature-v3": "ÿ"},
        {"X-HubSpot-Signature-v3": ""},
    ],
    ids=[
        "superscript",
        "arabic-indic",
        "4000 digits",
        "negative",
        "no timestamp",
        "non-ascii signature",
        "no signature",
    ],
)
def test_a_request_without_a_valid_signature_is_refused(client, headers):
    response = post(client, json.dumps(execution()), **headers)
    assert response.status_code == 401
    assert InboundRejection.objects.count() == Run.objects.count() == 0


def test_a_request_signed_with_another_secret_is_refused(client):
    response = post(client, json.dumps(execution()), secret="someone-else")
    assert response.status_code == 401
    assert Run.objects.count() == 0


def test_a_body_over_the_limit_is_refused_before_it_is_read(client):
    response = post(client, json.dumps(execution()).ljust(WORKFLOW_BODY_MAX_BYTES + 1))
    assert response.status_code == 413
    assert InboundRejection.objects.count() == Run.objects.count() == 0


BAD_REQUESTS = [
    ("not json", "{", "the body is not JSON"),
    ("NaN", json.dumps(execution()).replace("614", "NaN"), "the body is not JSON: NaN"),
    ("deeply nested", "[" * 50_000 + "]" * 50_000, "the body is not JSON: nested too deeply"),
    ("a list", "[]", "must be a JSON object, not a list."),
    ("null", "null", "must be a JSON object, not null."),
    (
        "1e400 as the deal",
        json.dumps(execution()).replace("614", "1e400"),
        "object.objectId: must be a whole number or a string of digits, not a decimal number.",
    ),
    (
        "true as the portal",
        json.dumps(execution(origin__portalId=True)),
        "origin.portalId: must be a whole number or a string of digits, not true.",
    ),
    (
        "a decimal portal",
        json.dumps(execution(origin__portalId=9000001.9)),
        "origin.portalId: must be a whole number or a string of digits, not a decimal number.",
    ),
    (
        "a null deal",
        json.dumps(execution(object__objectId=None)),
        "object.objectId: must be a whole number, not null.",
    ),
    (
        "a portal past bigint",
        json.dumps(execution(origin__portalId=2**63)),
        "origin.portalId: must be between 1 and 9223372036854775807.",
    ),
    (
        "no object",
        json.dumps(execution(object=None)),
        "object: must be a JSON object, not null.",
    ),
    (
        "no callbackId",
        json.dumps(execution(callbackId=None)),
        "callbackId: must be text, not null.",
    ),
    (
        "a callbackId that would change the callback URL",
        json.dumps(execution(callbackId="../../crm/v3/objects/deals/1?")),
        'callbackId: must look like "ap-102670506-56777914962-11-0".',
    ),
    (
        "a callbackId longer than the run's key",
        json.dumps(execution(callbackId="a" * 151)),
        'callbackId: must look like "ap-102670506-56777914962-11-0".',
    ),
    (
        "an object type longer than makes sense",
        json.dumps(execution(object__objectType="D" * 41)),
        "object.objectType: must be at most 40 characters.",
    ),
    (
        "an object type that is not text",
        json.dumps(execution(object__objectType=3)),
        "object.objectType: must be text, not a whole number.",
    ),
]


@pytest.mark.parametrize(
    "body, reason", [case[1:] for case in BAD_REQUESTS], ids=[case[0] for case in BAD_REQUESTS]
)
def test_a_signed_unusable_request_fails_the_action_with_the_reason(client, body, reason):
    response = post(client, body)
    assert response.status_code == 200
    fields = response.json()["outputFields"]
    assert fields["hs_execution_state"] == "FAIL_CONTINUE"
    assert fields["fortnox_status"] == "failed"
    assert fields["fortnox_error"].startswith(f"HubSpot's request could not be used: {reason}")
    rejection = InboundRejection.objects.get()
    assert rejection.kind == "workflow_action"
    assert rejection.reason.startswith(reason)
    assert Run.objects.count() == 0


def test_a_rejection_is_filed_under_the_portal_when_that_much_is_usable(client):
    post(client, json.dumps(execution(object__objectId=True)))
    assert InboundRejection.objects.get().hub_id == 555


def test_an_unknown_action_fails_with_the_reason(client):
    response = post(client, json.dumps(execution()), path="/hubspot/workflow-actions/delete-all")
    assert response.status_code == 200
    assert response.json()["outputFields"]["fortnox_error"] == (
        "HubSpot's request could not be used: unknown workflow action 'delete-all'"
    )
    assert Run.objects.count() == 0
