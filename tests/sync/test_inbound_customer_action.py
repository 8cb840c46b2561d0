"""POST /hubspot/workflow-actions/sync-customer: a contact or company execution request starts one
customer sync of that record and blocks; any other object type fails the action at once with the
reason in the portal's language, and starts nothing. (HubSpot offers the action only in contact
and company workflows; this is the service's own guard.)"""

from __future__ import annotations

import json

import pytest

from sync.models import Run, SyncSettings
from tests.sync.test_inbound_workflow_actions import execution, post
from tests.sync.test_webhook_receiver import portal  # noqa: F401 (the fixture used below)

pytestmark = pytest.mark.usefixtures("portal")  # portal 555, installed, notes in English

PATH = "/hubspot/workflow-actions/sync-customer"


@pytest.mark.parametrize(
    ("object_type", "subject"), [("COMPANY", "companies"), ("CONTACT", "contacts")]
)
def test_a_contact_or_company_request_starts_one_customer_sync(
    client, django_capture_on_commit_callbacks, object_type, subject
):
    body = json.dumps(execution(object__objectType=object_type))
    with django_capture_on_commit_callbacks(execute=False):
        first = post(client, body, PATH)
        again = post(client, body, PATH)  # HubSpot repeats the request: the same trigger
    assert first.json() == again.json() == {"outputFields": {"hs_execution_state": "BLOCK"}}
    run = Run.objects.get()
    assert (run.kind, run.subject_type, run.subject_id, run.trigger_key) == (
        "customer_sync",
        subject,
        "614",
        "workflow:ap-555-56777914962-11-0",
    )


def test_a_deal_request_fails_at_once_in_the_portals_language(client):
    english = post(client, json.dumps(execution()), PATH)
    SyncSettings.objects.update(language=SyncSettings.Language.SWEDISH)
    swedish = post(client, json.dumps(execution(callbackId="ap-555-2-1-0")), PATH)

    assert english.json()["outputFields"] == {
        "hs_execution_state": "FAIL_CONTINUE",
        "fortnox_status": "failed",
        "fortnox_error": "This action works on contacts and companies, not on deals.",
    }
    assert swedish.json()["outputFields"]["fortnox_error"] == (
        "Åtgärden fungerar bara på kontakter och företag, inte på objekt av typen deal."
    )
    assert not Run.objects.exists()
