"""The workflow action "Sync to Fortnox customer" end to end (issue 15): a contact or company
workflow in the HubSpot sandbox reaches the action, the live service answers BLOCK, the real
worker syncs the record to its Fortnox customer in the Fortnox sandbox, and the callback completes
the workflow with the customer number or with the error and its fix. The tests read what users
see: the workflow's outputs, the customer in Fortnox, its number and the note on the record."""

from __future__ import annotations

import json
import time

import pytest
import requests

from integrations.models import HubSpotInstallation
from sandbox.hubspot.signing import signed_headers
from sandbox.hubspot.testing import SECRET
from sync.models import Delivery, DeliveryAttempt, Run, RunStep, SyncSettings
from tests.flows import Portal, visible_text
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

SYNC_CUSTOMER = "fortnox_sync_customer"  # the action's uid in hubspot-app/ (ids follow files)
OUTAGE_S = 3600  # longer than any test waits: the test ends it (DELETE /_sandbox/faults)
WAITING = ("PENDING", "RETRYING", "BLOCK")


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def workflow_start(portal: Portal, object_type: str, object_id: str) -> dict:
    """A contact or company workflow reaches the action; the execution after HubSpot has the
    service's first answer."""
    return portal.world.hubspot_admin(
        "POST",
        "/_sandbox/workflows/execute",
        json={
            "portal": portal.hub,
            "definition_id": SYNC_CUSTOMER,
            "object_type": object_type,
            "object_id": object_id,
        },
    )


def execution(portal: Portal, callback_id: str) -> dict:
    return portal.world.hubspot_admin("GET", f"/_sandbox/workflows/executions/{callback_id}")


def execution_finished(portal: Portal, callback_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        current = execution(portal, callback_id)
        if current["state"] not in WAITING:
            return current
        assert time.monotonic() < deadline, f"workflow execution still {current['state']}"
        time.sleep(0.2)


def first_answer(started: dict) -> dict:
    """What the service answered HubSpot's execution request (before any callback)."""
    assert started["history"][0]["status"] == 200
    return json.loads(started["history"][0]["body"])["outputFields"]


def workflow_sync(portal: Portal, object_type: str, object_id: str) -> tuple[dict, Run]:
    """One workflow run of the action on the record: the finished execution and the run."""
    started = workflow_start(portal, object_type, object_id)
    assert first_answer(started) == {"hs_execution_state": "BLOCK"}
    done = execution_finished(portal, started["callbackId"])
    key = f"workflow:{started['callbackId']}"
    [run] = [
        r
        for r in wait_for_runs(object_id, count=runs_of(object_id).count())
        if r.trigger_key == key
    ]
    return done, run


def runs_of(object_id: str):
    return Run.objects.filter(subject_id=object_id).order_by("pk")


def note_texts(portal: Portal, object_type: str, object_id: str) -> list[str]:
    return [
        visible_text(n["properties"]["hs_note_body"])
        for n in portal.notes(object_id, object_type=object_type)
    ]


def fortnox_calls(run: Run) -> list[str]:
    return [
        f"{s.method} {s.path}"
        for s in RunStep.objects.filter(run=run, kind="call", service="fortnox")
    ]


def fortnox_requests(portal: Portal, method: str, path: str) -> list[dict]:
    """What the Fortnox sandbox received at exactly `path`, oldest first."""
    log = portal.world.fortnox_admin(
        "GET", f"/_sandbox/requests?company={portal.company}&path_prefix={path}"
    )
    return [e for e in log if e["method"] == method and e["path"] == path]


def customers_named(portal: Portal, name: str) -> list[dict]:
    return [c for c in portal.fortnox_records("customers") if c.get("Name") == name]


def test_a_company_workflow_creates_the_customer_and_completes_with_its_number(portal):
    company = portal.create(
        "companies",
        {
            "name": "Verkstad AB",
            "fortnox_organisation_number": "559900-1122",
            "address": "Storgatan 1",
            "zip": "111 22",
            "city": "Stockholm",
        },
    )

    done, run = workflow_sync(portal, "COMPANY", company)

    assert done["state"] == "SUCCESS"
    outputs = done["output_fields"]
    number = outputs["fortnox_customer_number"]
    assert outputs["fortnox_status"] == "synced" and number
    assert "fortnox_error" not in outputs
    assert portal.record("companies", company)["properties"]["fortnox_customer_number"] == number
    customer = portal.fortnox_record("customers", number)
    assert (customer["Name"], customer["OrganisationNumber"]) == ("Verkstad AB", "559900-1122")
    assert (customer["Address1"], customer["ZipCode"], customer["City"]) == (
        "Storgatan 1",
        "111 22",
        "Stockholm",
    )
    assert customer["Type"] == "COMPANY"
    [note] = note_texts(portal, "companies", company)
    assert f"Fortnox customer {number} (Verkstad AB) was created from this company." in note
    assert f"Fortnox for HubSpot · run {run.pk} · Workflow action" in note
    assert run.kind == "customer_sync" and run.subject_type == "companies"


def test_a_changed_address_is_sent_alone_and_an_unchanged_company_costs_no_call(portal):
    company = portal.create(
        "companies",
        {
            "name": "Hamnverkstan AB",
            "fortnox_organisation_number": "559900-3344",
            "address": "Storgatan 1",
            "zip": "111 22",
            "city": "Stockholm",
        },
    )
    first, _ = workflow_sync(portal, "COMPANY", company)
    number = first["output_fields"]["fortnox_customer_number"]
    assert first["state"] == "SUCCESS" and number

    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/companies/{company}",
        json={"properties": {"address": "Hamngatan 9", "city": "Göteborg"}},
    )
    second, updated = workflow_sync(portal, "COMPANY", company)

    assert second["state"] == "SUCCESS"
    assert second["output_fields"]["fortnox_customer_number"] == number
    customer = portal.fortnox_record("customers", number)
    assert (customer["Address1"], customer["City"], customer["ZipCode"]) == (
        "Hamngatan 9",
        "Göteborg",
        "111 22",
    )
    assert fortnox_calls(updated) == [f"PUT /3/customers/{number}"]
    [put] = fortnox_requests(portal, "PUT", f"/3/customers/{number}")
    assert put["body"] == {"Customer": {"Address1": "Hamngatan 9", "City": "Göteborg"}}
    assert any(
        f"Fortnox customer {number} (Hamnverkstan AB) was updated from this company." in text
        and "Changed in HubSpot since the last sync: Address1, City." in text
        for text in note_texts(portal, "companies", company)
    )

    third, unchanged = workflow_sync(portal, "COMPANY", company)

    assert third["state"] == "SUCCESS"
    assert third["output_fields"]["fortnox_customer_number"] == number
    assert fortnox_calls(unchanged) == []
    assert len(fortnox_requests(portal, "PUT", f"/3/customers/{number}")) == 1
    assert any(
        "is already in step with this company: nothing was sent to Fortnox." in text
        for text in note_texts(portal, "companies", company)
    )
    assert len(customers_named(portal, "Hamnverkstan AB")) == 1


def test_a_contact_whose_email_a_company_customer_has_becomes_a_private_customer(portal):
    answer = portal.fortnox_api(
        "POST",
        "customers",
        json={"Customer": {"Name": "Firma Lind AB", "Type": "COMPANY", "Email": "eva@lind.se"}},
    )
    company_customer = answer.json()["Customer"]
    contact = portal.create(
        "contacts", {"firstname": "Eva", "lastname": "Lind", "email": "eva@lind.se"}
    )

    done, run = workflow_sync(portal, "CONTACT", contact)

    assert done["state"] == "SUCCESS", done["output_fields"]
    number = done["output_fields"]["fortnox_customer_number"]
    assert number and number != company_customer["CustomerNumber"]
    created = portal.fortnox_record("customers", number)
    assert (created["Name"], created["Type"], created["Email"]) == (
        "Eva Lind",
        "PRIVATE",
        "eva@lind.se",
    )
    untouched = portal.fortnox_record("customers", company_customer["CustomerNumber"])
    assert {k: untouched[k] for k in ("Name", "Type", "Email")} == {
        "Name": "Firma Lind AB",
        "Type": "COMPANY",
        "Email": "eva@lind.se",
    }
    assert (
        fortnox_requests(portal, "PUT", f"/3/customers/{company_customer['CustomerNumber']}") == []
    )
    assert portal.record("contacts", contact)["properties"]["fortnox_customer_number"] == number
    [note] = note_texts(portal, "contacts", contact)
    assert f"Fortnox customer {number} (Eva Lind) was created from this contact." in note
    assert f"run {run.pk} · Workflow action" in note


def test_a_bad_organisation_number_fails_the_action_with_the_error_and_the_fix(portal):
    company = portal.create(
        "companies", {"name": "Felnummer AB", "fortnox_organisation_number": "12-34"}
    )

    done, run = workflow_sync(portal, "COMPANY", company)

    assert done["state"] == "FAIL_CONTINUE"
    outputs = done["output_fields"]
    assert outputs["fortnox_status"] == "failed"
    assert outputs["fortnox_customer_number"] == ""
    assert (
        "The organisation number '12-34' of the company 'Felnummer AB' is not a Swedish "
        "organisation number." in outputs["fortnox_error"]
    )
    assert "Write it as NNNNNN-NNNN on the company in HubSpot" in outputs["fortnox_error"]
    assert customers_named(portal, "Felnummer AB") == []
    assert not portal.record("companies", company)["properties"].get("fortnox_customer_number")
    [note] = note_texts(portal, "companies", company)
    assert "The Fortnox customer was not created or updated." in note
    assert "Write it as NNNNNN-NNNN" in note and "Replay" in note

    # The fix, then the workflow again: the customer exists.
    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/companies/{company}",
        json={"properties": {"fortnox_organisation_number": "5599001234"}},
    )
    again, _ = workflow_sync(portal, "COMPANY", company)
    assert again["state"] == "SUCCESS"
    number = again["output_fields"]["fortnox_customer_number"]
    assert portal.fortnox_record("customers", number)["OrganisationNumber"] == "559900-1234"


def test_the_error_output_is_in_the_portals_language(portal):
    SyncSettings.objects.filter(installation__hub_id=portal.hub).update(
        language=SyncSettings.Language.SWEDISH
    )
    company = portal.create("companies", {"name": "Språk AB", "fortnox_organisation_number": "1"})

    done, _ = workflow_sync(portal, "COMPANY", company)

    assert done["state"] == "FAIL_CONTINUE"
    assert (
        "Organisationsnumret '1' för företaget 'Språk AB' är inget svenskt organisationsnummer."
        in done["output_fields"]["fortnox_error"]
    )


def deliver_again(portal: Portal, started: dict) -> requests.Response:
    """HubSpot sends the same execution request again (its answer to the first was lost, say):
    the same body, signed afresh as HubSpot signs it."""
    body = json.dumps(started["request"], separators=(",", ":"))
    now_ms = portal.world.hubspot_admin("GET", "/_sandbox/clock")["now_ms"]
    headers = signed_headers("workflow", SECRET, "POST", started["action_url"], body, now_ms)
    headers["Content-Type"] = "application/json"
    return requests.post(started["action_url"], data=body.encode(), headers=headers, timeout=10)


def test_the_same_execution_delivered_again_starts_one_run(portal):
    company = portal.create(
        "companies", {"name": "Dubblett AB", "fortnox_organisation_number": "559900-5566"}
    )

    started = workflow_start(portal, "COMPANY", company)
    repeated = deliver_again(portal, started)
    done = execution_finished(portal, started["callbackId"])
    late = deliver_again(portal, started)

    assert repeated.status_code == 200 and late.status_code == 200
    assert repeated.json()["outputFields"]["hs_execution_state"] == "BLOCK"
    # Once the company is a Fortnox customer, HubSpot's late change events of its creation may
    # start change syncs (costing nothing: sync/webhooks.py); the workflow started one run.
    [run] = [
        r for r in wait_for_runs(company, count=runs_of(company).count()) if r.trigger == "workflow"
    ]
    assert run.trigger_key == f"workflow:{started['callbackId']}"
    assert done["state"] == "SUCCESS"
    assert len(customers_named(portal, "Dubblett AB")) == 1
    assert len(note_texts(portal, "companies", company)) == 1
    assert execution(portal, started["callbackId"])["late_completions"] == 0


def test_hubspot_refusing_the_callback_gets_it_later(portal):
    company = portal.create(
        "companies", {"name": "Senare AB", "fortnox_organisation_number": "559900-7788"}
    )
    # HubSpot's callback endpoint answers 503 until the test brings it back.
    portal.world.hubspot_admin(
        "POST",
        "/_sandbox/faults/outage",
        json={"seconds": OUTAGE_S, "method": "POST", "path_prefix": "/automation/v4/actions"},
    )

    started = workflow_start(portal, "COMPANY", company)
    deadline = time.monotonic() + 90
    while not DeliveryAttempt.objects.filter(
        delivery__run__subject_id=company,
        delivery__kind=Delivery.Kind.WORKFLOW_CALLBACK,
        outcome="retry",
        status_code=503,
    ).exists():
        assert time.monotonic() < deadline, "the callback was never refused"
        time.sleep(0.2)

    # The run is done and the customer exists, but the workflow still waits.
    run = runs_of(company).filter(trigger="workflow").get()
    assert run.status == "succeeded"
    assert execution(portal, started["callbackId"])["state"] == "BLOCK"
    callback = Delivery.objects.get(run=run, kind=Delivery.Kind.WORKFLOW_CALLBACK)
    assert callback.status == "pending"

    portal.world.hubspot_admin("DELETE", "/_sandbox/faults")  # HubSpot is back
    done = execution_finished(portal, started["callbackId"], timeout=90)

    assert done["state"] == "SUCCESS"
    assert done["output_fields"]["fortnox_customer_number"] == run.fortnox_customer_number
    # HubSpot took it; the worker records the attempt once the answer is back.
    wait_for_runs(company, count=runs_of(company).count())
    callback.refresh_from_db()
    assert callback.status == "delivered"
    answers = [a.status_code for a in callback.attempt_log.all()]
    assert 503 in answers and answers[-1] != 503
    assert done["late_completions"] == 0
    assert portal.fortnox_record("customers", run.fortnox_customer_number)["Name"] == "Senare AB"
    assert HubSpotInstallation.objects.get(hub_id=portal.hub).is_active
