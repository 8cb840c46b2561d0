"""A company or contact → its Fortnox customer on its own, without a document (issue 15): the
run of kind customer sync, through both sandboxes. What is asserted is what users see: the
customer in Fortnox, its number on the HubSpot record, the note, and the calls the run made."""

from __future__ import annotations

import time

import pytest

from integrations.models import HubSpotInstallation
from sync.models import Run, RunKind, RunStep, WebhookEvent
from sync.runs import run_create
from tests.flows import Portal, visible_text
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def sync_now(portal: Portal, object_type: str, object_id: str, key: str) -> Run:
    """A person asks for the record's sync (what the card's Update does) and waits for it."""
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    run = run_create(
        installation,
        subject_type=object_type,
        subject_id=object_id,
        kind=RunKind.CUSTOMER_SYNC,
        trigger=Run.Trigger.MANUAL,
        trigger_key=f"manual:{key}",
    )
    assert run is not None
    runs = wait_for_runs(object_id, count=Run.objects.filter(subject_id=object_id).count())
    return next(r for r in runs if r.pk == run.pk)


def asked_runs(object_id: str, count: int = 1) -> list[Run]:
    """The record's finished runs, without the change syncs HubSpot's late change events start
    once the record is a Fortnox customer (sync/webhooks.py): what a person or workflow asked."""
    runs = wait_for_runs(object_id, count=count)
    runs = wait_for_runs(object_id, count=Run.objects.filter(subject_id=object_id).count())
    return [r for r in runs if r.trigger != Run.Trigger.CHANGE]


def fortnox_calls(run: Run) -> list[str]:
    return [
        f"{s.method} {s.path}"
        for s in RunStep.objects.filter(run=run, kind="call", service="fortnox")
    ]


def note_texts(portal: Portal, object_type: str, object_id: str) -> list[str]:
    return [
        visible_text(n["properties"]["hs_note_body"])
        for n in portal.notes(object_id, object_type=object_type)
    ]


def test_a_company_synced_then_changed_then_unchanged(portal):
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
    first = sync_now(portal, "companies", company, "1")
    assert first.status == "succeeded", first.error_message
    number = portal.record("companies", company)["properties"]["fortnox_customer_number"]
    customer = portal.fortnox_record("customers", number)
    assert customer["Name"] == "Verkstad AB"
    assert customer["OrganisationNumber"] == "559900-1122"
    assert customer["Address1"] == "Storgatan 1"
    assert customer["City"] == "Stockholm"
    assert any(
        f"Fortnox customer {number} (Verkstad AB) was created from this company" in text
        for text in note_texts(portal, "companies", company)
    )

    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/companies/{company}",
        json={"properties": {"address": "Hamngatan 9", "city": "Göteborg"}},
    )
    second = sync_now(portal, "companies", company, "2")
    assert second.status == "succeeded", second.error_message
    customer = portal.fortnox_record("customers", number)
    assert (customer["Address1"], customer["City"]) == ("Hamngatan 9", "Göteborg")
    assert [c.split(" ")[0] for c in fortnox_calls(second)] == ["PUT"]
    assert any(
        "was updated from this company" in text and "Address1, City" in text
        for text in note_texts(portal, "companies", company)
    )

    third = sync_now(portal, "companies", company, "3")
    assert third.status == "succeeded", third.error_message
    assert fortnox_calls(third) == []
    assert any(
        "already in step with this company: nothing was sent" in text
        for text in note_texts(portal, "companies", company)
    )
    assert len(portal.fortnox_records("customers")) == len(
        {c["CustomerNumber"] for c in portal.fortnox_records("customers")}
    )


def test_a_contact_whose_email_matches_a_company_customer_is_not_merged(portal):
    existing = portal.fortnox_api(
        "POST",
        "customers",
        json={"Customer": {"Name": "Firma Ek AB", "Type": "COMPANY", "Email": "anna@ek.se"}},
    ).json()["Customer"]["CustomerNumber"]
    contact = portal.create(
        "contacts", {"firstname": "Anna", "lastname": "Ek", "email": "anna@ek.se"}
    )
    run = sync_now(portal, "contacts", contact, "1")
    assert run.status == "succeeded", run.error_message
    number = portal.record("contacts", contact)["properties"]["fortnox_customer_number"]
    assert number and number != str(existing)
    created = portal.fortnox_record("customers", number)
    assert (created["Name"], created["Type"]) == ("Anna Ek", "PRIVATE")
    assert portal.fortnox_record("customers", str(existing))["Name"] == "Firma Ek AB"


def test_a_failed_sync_leaves_a_note_with_the_fix_and_replay(portal):
    company = portal.create("companies", {"name": "Fel AB", "fortnox_organisation_number": "12-34"})
    run = sync_now(portal, "companies", company, "1")
    assert run.status == "failed"
    [text] = note_texts(portal, "companies", company)
    assert "The Fortnox customer was not created or updated." in text
    assert "is not a Swedish organisation number" in text
    assert "Replay" in text
    assert all(c.get("Name") != "Fel AB" for c in portal.fortnox_records("customers"))


def wait_for_event(object_id: str, property_name: str, value: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = WebhookEvent.objects.filter(
            object_id=object_id, property_name=property_name, property_value=value
        ).first()
        if event is not None and event.outcome:
            return event
        time.sleep(0.2)
    raise AssertionError(f"HubSpot did not report {property_name}={value} of {object_id}")


def test_a_customers_address_changed_in_hubspot_reaches_fortnox_by_itself(portal):
    company = portal.create(
        "companies",
        {"name": "Snickeri AB", "fortnox_organisation_number": "559911-2233", "city": "Umeå"},
    )
    prospect = portal.create("companies", {"name": "Prospekt AB", "city": "Luleå"})
    first = sync_now(portal, "companies", company, "1")
    number = portal.record("companies", company)["properties"]["fortnox_customer_number"]
    customers_before = len(portal.fortnox_records("customers"))
    # HubSpot also reports the values the company was created with; arriving before the sync
    # they find no customer, after it a customer that already has them: no run either way.
    created_with = wait_for_event(company, "city", "Umeå")
    assert created_with.outcome in (
        "ignored: this company is not a Fortnox customer yet",
        f"ignored: Fortnox customer {number} already has this value",
    )
    assert not Run.objects.filter(subject_id=company, trigger="change").exists()

    for object_id in (company, prospect):
        portal.world.hubspot_admin(
            "PATCH",
            f"/_sandbox/portals/{portal.hub}/objects/companies/{object_id}",
            json={"properties": {"city": "Kiruna"}},
        )

    wait_for_event(company, "city", "Kiruna")
    runs = wait_for_runs(company, count=Run.objects.filter(subject_id=company).count())
    changes = [r for r in runs if r.pk != first.pk]
    assert len(changes) == 1 and changes[0].trigger == "change"
    assert all(r.status == "succeeded" for r in changes), [r.error_message for r in changes]
    assert portal.fortnox_record("customers", number)["City"] == "Kiruna"
    # One PUT with the changed field, however many change events HubSpot sent.
    calls = [call for r in changes for call in fortnox_calls(r)]
    assert [c.split(" ")[0] for c in calls] == ["PUT"]
    # Only the sync a person asked for left a note; the change reached Fortnox quietly.
    assert len(note_texts(portal, "companies", company)) == 1
    # A company that is no Fortnox customer is left alone: no run, no customer.
    event = wait_for_event(prospect, "city", "Kiruna")
    assert event.outcome == "ignored: this company is not a Fortnox customer yet"
    assert not Run.objects.filter(subject_id=prospect).exists()
    assert len(portal.fortnox_records("customers")) == customers_before


def test_two_syncs_of_one_new_company_at_once_make_one_customer(portal):
    """A deal closing while a workflow or bulk sync runs for its new company: both runs look
    for the customer at the same moment; one creates it, the other finds it."""
    company = portal.create(
        "companies", {"name": "Samtidig AB", "fortnox_organisation_number": "559922-3344"}
    )
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    for key in ("a", "b", "c"):
        run_create(
            installation,
            subject_type="companies",
            subject_id=company,
            kind=RunKind.CUSTOMER_SYNC,
            trigger=Run.Trigger.MANUAL,
            trigger_key=f"manual:{key}",
        )
    runs = asked_runs(company, 3)
    assert [r.status for r in runs] == ["succeeded"] * 3, [r.error_message for r in runs]
    named = [c for c in portal.fortnox_records("customers") if c.get("Name") == "Samtidig AB"]
    assert len(named) == 1
    assert {r.fortnox_customer_number for r in runs} == {str(named[0]["CustomerNumber"])}
