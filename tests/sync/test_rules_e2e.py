"""Rules of the product (../shared/reference/product.md §2 and §6) that users rely on, end to end:
the HubSpot sandbox calls the live service, the real worker runs against both sandboxes, and the
tests read what users see: the document in Fortnox, the note on the deal, the workflow's
outputs, the page support staff get in Django admin."""

from __future__ import annotations

import time

import pytest
import requests

from integrations.models import HubSpotInstallation
from sync.dispatch import MAX_ATTEMPTS
from sync.models import Run
from tests.flows import HUB, Portal, csrf_token, visible_text, webhook_events_decided
from tests.sync.test_runs_e2e import failed_then_fixed, note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {"name": "Consulting", "quantity": "2", "price": "500", "hs_sku": "1"}
CREATE_INVOICE, CREATE_ORDER = "5001", "5002"  # the sandbox's ids of the two workflow actions


def runs_of(deal_id: str):
    """The deal's runs, oldest first (the one place this module names Run's fields)."""
    return Run.objects.filter(subject_id=deal_id).order_by("pk")


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    """Installed, Fortnox company 1 connected, the default pipeline added: Closed won → invoice."""
    return portal_ready(world)


def customers(portal: Portal) -> dict[str, dict]:
    return {c["CustomerNumber"]: c for c in portal.fortnox_records("customers")}


def bookkeeper_creates_customer(portal: Portal, **fields: str) -> str:
    answer = portal.fortnox_api("POST", "customers", json={"Customer": fields})
    assert answer.status_code == 201, answer.text
    return answer.json()["Customer"]["CustomerNumber"]


def invoice_of(portal: Portal, deal: str) -> dict:
    """The one invoice the deal's run created, as the bookkeeper finds it in Fortnox."""
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    return portal.fortnox_record("invoices", run.fortnox_document_number)


def workflow_execute(portal: Portal, definition: str, deal: str, timeout: float = 60) -> dict:
    """A HubSpot workflow reaches the action for `deal`; returns the finished execution."""
    started = portal.world.hubspot_admin(
        "POST",
        "/_sandbox/workflows/execute",
        json={
            "portal": portal.hub,
            "definition_id": definition,
            "object_type": "DEAL",
            "object_id": deal,
        },
    )
    deadline = time.monotonic() + timeout
    while True:
        execution = portal.world.hubspot_admin(
            "GET", f"/_sandbox/workflows/executions/{started['callbackId']}"
        )
        if execution["state"] not in ("BLOCK", "RETRYING", "PENDING", "RUNNING"):
            return execution
        assert time.monotonic() < deadline, f"workflow execution still {execution['state']}"
        time.sleep(0.2)


# -- which Fortnox customer -------------------------------------------------------------------
def test_the_company_is_the_customer_when_the_deal_has_a_company_and_a_contact(portal):
    contact = portal.create(
        "contacts", {"firstname": "Anna", "lastname": "Svensson", "email": "anna@bolaget.example"}
    )
    company = portal.create("companies", {"name": "Bolaget AB"})
    deal = portal.deal([LINE], company=company, contact=contact)
    before = customers(portal)

    portal.move(deal)
    invoice = invoice_of(portal, deal)

    assert invoice["CustomerName"] == "Bolaget AB"
    new = {n: c for n, c in customers(portal).items() if n not in before}
    assert [c["Name"] for c in new.values()] == ["Bolaget AB"]
    assert "Customer: Bolaget AB" in note_text(portal, deal)
    company_props = portal.record("companies", company)["properties"]
    assert company_props["fortnox_customer_number"] == invoice["CustomerNumber"]
    assert not portal.record("contacts", contact)["properties"].get("fortnox_customer_number")


def test_a_contact_is_matched_to_the_fortnox_customer_with_the_same_email(portal):
    # Fortnox searches by substring: the decoy's address contains the contact's.
    bookkeeper_creates_customer(portal, Name="Maria Anna", Email="maria.anna@kund.example")
    number = bookkeeper_creates_customer(
        portal, Name="A. Svensson", Email="anna@kund.example", Type="PRIVATE"
    )
    before = customers(portal)
    contact = portal.create(
        "contacts", {"firstname": "Anna", "lastname": "Svensson", "email": "anna@kund.example"}
    )
    deal = portal.deal([LINE], contact=contact)

    portal.move(deal)
    invoice = invoice_of(portal, deal)

    assert invoice["CustomerNumber"] == number
    assert customers(portal).keys() == before.keys()
    contact_props = portal.record("contacts", contact)["properties"]
    assert contact_props["fortnox_customer_number"] == number


def test_a_company_keeps_its_fortnox_customer_through_the_stored_mapping(portal):
    # No organisation number or e-mail: only the mapping the first run stored can find it again.
    company = portal.create("companies", {"name": "Mappad AB"})
    first = portal.deal([LINE], company=company, name="First deal")
    portal.move(first)
    number = invoice_of(portal, first)["CustomerNumber"]
    before = customers(portal)
    # The company is renamed, and an import wipes the customer number the app wrote on it.
    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/companies/{company}",
        json={"properties": {"name": "Mappad & Co AB", "fortnox_customer_number": ""}},
    )
    second = portal.deal([LINE], company=company, name="Second deal")

    portal.move(second)
    invoice = invoice_of(portal, second)

    assert invoice["CustomerNumber"] == number
    assert customers(portal).keys() == before.keys()


def test_a_customer_number_on_the_hubspot_record_names_the_fortnox_customer(portal):
    # Written there earlier (by another installation, say): it holds while Fortnox has it.
    number = bookkeeper_creates_customer(portal, Name="Registrerad Kund AB")
    before = customers(portal)
    company = portal.create(
        "companies", {"name": "Annat Namn AB", "fortnox_customer_number": number}
    )
    deal = portal.deal([LINE], company=company)

    portal.move(deal)
    invoice = invoice_of(portal, deal)

    assert invoice["CustomerNumber"] == number
    assert customers(portal).keys() == before.keys()


# -- workflow actions ----------------------------------------------------------------------------
def test_the_order_workflow_action_creates_an_order_and_completes_the_callback(portal):
    deal = portal.deal([LINE])  # the pipeline makes invoices: the action decides, not it

    execution = workflow_execute(portal, CREATE_ORDER, deal)

    assert execution["state"] == "SUCCESS", execution
    number = execution["output_fields"]["fortnox_document_number"]
    assert execution["output_fields"]["fortnox_status"] == "created"
    order = portal.fortnox_record("orders", number)
    assert order["CustomerName"] == "Kund AB" and len(order["OrderRows"]) == 1
    wait_for_runs(deal)  # the note is a delivery of its own, sent beside the callback
    assert f"Fortnox order {number} created" in note_text(portal, deal)


def test_a_failing_order_workflow_action_answers_fail_continue_with_the_reason(portal):
    deal = portal.deal([])
    orders_before = portal.fortnox_records("orders")

    execution = workflow_execute(portal, CREATE_ORDER, deal)

    # FAIL_CONTINUE: the workflow goes on along its failure branch, with the reason to show.
    assert execution["state"] == "FAIL_CONTINUE", execution
    assert execution["output_fields"]["fortnox_status"] == "failed"
    assert "The deal has no line items" in execution["output_fields"]["fortnox_error"]
    assert "Add line items" in execution["output_fields"]["fortnox_error"]
    wait_for_runs(deal)
    text = note_text(portal, deal)
    assert "No Fortnox order was created." in text and "The deal has no line items" in text
    assert portal.fortnox_records("orders") == orders_before


# -- retries -------------------------------------------------------------------------------------
def test_a_run_gives_up_after_its_last_attempt_with_a_note_saying_how_often_it_tried(portal):
    deal = portal.deal([LINE])
    invoices_before = portal.fortnox_records("invoices")
    # Fortnox is down for longer than the app keeps trying.
    portal.world.fortnox_admin(
        "POST", "/_sandbox/faults/fail-next", json={"count": 10_000, "status": 503}
    )

    portal.move(deal)
    # Thirteen attempts take about 40 minutes (sync/dispatch.py): once the first one has failed
    # and the run waits for its retry, count all but the last one as done.
    deadline = time.monotonic() + 60
    while not runs_of(deal).filter(status="queued", attempts=1).exists():
        assert time.monotonic() < deadline, list(runs_of(deal).values("status", "attempts"))
        time.sleep(0.05)
    runs_of(deal).update(attempts=MAX_ATTEMPTS - 1)
    [run] = wait_for_runs(deal, timeout=90)

    assert run.status == "failed"
    text = note_text(portal, deal)  # one note: the attempts before the last one wrote none
    assert "No Fortnox invoice was created." in text
    assert f"The app tried {MAX_ATTEMPTS} times over about 40 minutes." in text
    assert "Replay" in text
    assert portal.record("deals", deal)["properties"]["fortnox_status"] == "failed"
    statuses = {r["status"] for r in portal.world.fortnox_admin("GET", "/_sandbox/requests")}
    assert 503 in statuses  # the outage was what the app saw
    portal.world.fortnox_admin("DELETE", "/_sandbox/faults")
    assert portal.fortnox_records("invoices") == invoices_before


# -- Replay from Django admin ----------------------------------------------------------------------
def staff_browser(app: str) -> requests.Session:
    """A support person signed in to Django admin."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("support", "support@cloudify.example", "s3cret!")
    browser = requests.Session()
    login = browser.get(f"{app}/admin/login/", params={"next": "/admin/"}, timeout=10)
    page = browser.post(
        login.url,
        data={
            "username": "support",
            "password": "s3cret!",
            "next": "/admin/",
            "csrfmiddlewaretoken": csrf_token(login.text),
        },
        timeout=10,
    )
    assert page.url == f"{app}/admin/", visible_text(page.text)[:500]
    return browser


def test_support_staff_replay_a_failed_run_from_django_admin(portal):
    deal, failed = failed_then_fixed(portal)
    browser = staff_browser(portal.world.app)
    changelist = browser.get(f"{portal.world.app}/admin/sync/run/", timeout=10)
    assert changelist.status_code == 200

    page = browser.post(
        changelist.url,
        data={
            "action": "replay",
            "_selected_action": [str(failed.pk)],
            "index": "0",
            "csrfmiddlewaretoken": csrf_token(changelist.text),
        },
        timeout=10,
    )

    assert page.status_code == 200
    assert f"Run {failed.pk}: Replay started" in visible_text(page.text)
    runs = wait_for_runs(deal, count=2)
    assert [r.status for r in runs] == ["failed", "succeeded"]
    invoice = portal.fortnox_record("invoices", runs[1].fortnox_document_number)
    assert [r["ArticleNumber"] for r in invoice["InvoiceRows"]] == ["WIDGET"]
    notes = [visible_text(n["properties"]["hs_note_body"]) for n in portal.notes(deal)]
    assert any(f"Fortnox invoice {invoice['DocumentNumber']} created" in text for text in notes), (
        notes
    )


# -- after an uninstall --------------------------------------------------------------------------
def hubspot_sends_stage_change(portal: Portal, deal: str) -> None:
    """A deal stage change as HubSpot delivers it, queued directly: a delivery HubSpot was
    still retrying from before the uninstall (the sandbox makes no new events for a portal
    without the app)."""
    portal.world.hubspot_admin(
        "POST",
        "/_sandbox/webhooks/events",
        json={
            "portal": portal.hub,
            "events": [
                {
                    "subscriptionType": "object.propertyChange",
                    "objectTypeId": "0-3",
                    "objectId": int(deal),
                    "propertyName": "dealstage",
                    "propertyValue": "closedwon",
                }
            ],
        },
    )
    portal.world.hubspot_admin("POST", "/_sandbox/webhooks/drain", json={"timeout": 20})
    webhook_events_decided()


def test_after_an_uninstall_webhooks_and_workflow_actions_do_nothing(portal):
    first, second = portal.deal([LINE]), portal.deal([LINE])
    invoices_before = portal.fortnox_records("invoices")
    portal.world.hubspot_admin("POST", "/_sandbox/faults/uninstall", json={"portal": HUB})
    # The app learns it the way it can: HubSpot refuses its refresh when a run needs HubSpot.
    hubspot_sends_stage_change(portal, first)
    deadline = time.monotonic() + 60
    while HubSpotInstallation.objects.get(hub_id=HUB).status != "uninstalled":
        assert time.monotonic() < deadline, "the app did not learn of the uninstall"
        time.sleep(0.1)
    while not all(r.is_finished for r in runs_of(first)):
        assert time.monotonic() < deadline, list(runs_of(first).values("status"))
        time.sleep(0.1)
    portal.world.hubspot_admin("DELETE", "/_sandbox/requests")
    portal.world.hubspot_admin("DELETE", "/_sandbox/deliveries")

    hubspot_sends_stage_change(portal, second)
    execution = workflow_execute(portal, CREATE_INVOICE, second)

    [delivery] = portal.world.hubspot_admin("GET", "/_sandbox/deliveries?kind=webhook")
    assert 200 <= delivery["status"] < 300  # accepted, so HubSpot stops retrying it
    assert execution["state"] == "FAIL_CONTINUE", execution
    assert "not installed" in execution["output_fields"]["fortnox_error"]
    assert not runs_of(second).exists()
    assert portal.notes(first) == [] and portal.notes(second) == []
    assert portal.fortnox_records("invoices") == invoices_before
    # Nothing more is asked of HubSpot for the portal: its tokens are dead.
    api_calls = [
        r
        for r in portal.world.hubspot_admin("GET", "/_sandbox/requests")
        if not r["path"].startswith("/_sandbox")
    ]
    assert api_calls == []
