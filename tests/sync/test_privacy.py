"""What a scrub keeps and removes, row by row (the end-to-end cases: test_privacy_e2e.py), the
receiver's privacy-deletion branch, the settings and the daily task's wiring."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from integrations.models import HubSpotInstallation
from sync import privacy
from sync.models import CustomerMapping, Run, WebhookEvent
from sync.privacy import (
    REMOVED,
    data_read_scrubbed,
    personal_data_scrub_contact,
    personal_data_scrub_expired,
)
from sync.webhooks import DeliveryOutcome, webhook_events_decide, webhook_events_record
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db

NOW = timezone.now()
OLD = NOW - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS + 1)
DATA_READ = {
    "deal": {
        "hs_object_id": "501",
        "dealname": "Offer for Anna Svensson",
        "description": "Call Anna on 070-1112233",
        "amount": "3000",
        "deal_currency_code": "SEK",
        "closedate": "2026-11-20T00:00:00Z",
        "dealstage": "closedwon",
        "contact_personnummer": "19800101-1234",  # a property an admin mapped
    },
    "line_items": [
        {"hs_object_id": "601", "name": "Coaching for Anna", "quantity": "3", "price": "1000"},
    ],
    "customer": {
        "type": "contacts",
        "id": "701",
        "properties": {"email": "anna@kund.example", "address": "Storgatan 12"},
    },
    "outcome": {
        "customer_name": "Anna Svensson",
        "total": "3750",
        "total_vat": "750",
        "row_count": 1,
        "created_articles": ["CONS"],
        "placeholder_rows": ["Coaching for Anna"],
    },
    "notes": "Anna asked for a discount",  # a section this module does not know
}
TRACES = ("Anna", "070-1112233", "19800101-1234", "anna@kund.example", "Storgatan", "Coaching")


@pytest.fixture
def installation():
    return HubSpotInstallation.objects.create(hub_id=555, installed_by_email="admin@x.example")


def a_run(installation, **fields) -> Run:
    """A run row as the engine leaves it. (The one place these tests name Run's deal and
    document fields.)"""
    defaults = {
        "subject_id": "501",
        "kind": "invoice",
        "trigger": "stage",
        "trigger_key": "stage:default:closedwon",
        "status": "succeeded",
    }
    return Run.objects.create(installation=installation, **{**defaults, **fields})


def an_event(hub_id=555, object_type="contact", object_id="701", **fields) -> WebhookEvent:
    defaults = {
        "property_name": "email",
        "property_value": "anna@kund.example",
        "occurred_at_ms": 1_764_000_000_000,
        "subscription_type": "object.propertyChange",
        "outcome": "ignored: this contact is not a Fortnox customer yet",  # decided long ago
    }
    return WebhookEvent.objects.create(
        hub_id=hub_id, object_type=object_type, object_id=object_id, **{**defaults, **fields}
    )


def test_data_read_keeps_ids_amounts_and_codes_only():
    assert data_read_scrubbed(DATA_READ) == {
        "deal": {
            "hs_object_id": "501",
            "amount": "3000",
            "deal_currency_code": "SEK",
            "closedate": "2026-11-20T00:00:00Z",
            "dealstage": "closedwon",
        },
        "line_items": [{"hs_object_id": "601", "quantity": "3", "price": "1000"}],
        "customer": {"type": "contacts", "id": "701"},
        "outcome": {
            "total": "3750",
            "total_vat": "750",
            "row_count": 1,
            "created_articles": ["CONS"],
        },
    }
    assert data_read_scrubbed(data_read_scrubbed(DATA_READ)) == data_read_scrubbed(DATA_READ)
    assert data_read_scrubbed(None) == {} and data_read_scrubbed([1]) == {}


def test_an_old_run_loses_its_messages_and_a_recent_one_keeps_them(installation):
    old = a_run(
        installation,
        data_read=DATA_READ,
        created_at=OLD,
        finished_at=OLD,
        status="failed",
        error_code="2000359",
        error_message="The customer's Email 'anna@kund.example' is not valid.",
        error_fix="Correct the e-mail of Anna Svensson in HubSpot, then Replay.",
        service_message="Ogiltig e-post: anna@kund.example",
        total="3750.00",
        fortnox_customer_number="12",
    )
    old.steps.create(kind="info", message="Created Fortnox customer 12 (Anna Svensson).")
    old.steps.create(kind="call", service="fortnox", method="POST", path="customers", status=201)
    recent = a_run(installation, data_read=DATA_READ, finished_at=NOW - timedelta(days=1))
    recent.steps.create(kind="info", message="Created Fortnox customer 12 (Anna Svensson).")

    result = personal_data_scrub_expired(NOW)

    assert (result.runs, result.more) == (1, False)
    old.refresh_from_db()
    text = json.dumps([old.data_read, old.error_message, old.error_fix, old.service_message])
    text += json.dumps(list(old.steps.values_list("message", flat=True)))
    assert not [trace for trace in TRACES if trace in text]
    assert (old.error_message, old.error_fix, old.service_message) == (REMOVED,) * 3
    assert (old.status, old.error_code, old.fortnox_customer_number) == ("failed", "2000359", "12")
    assert old.total == 3750 and old.personal_data_scrubbed_at == NOW
    assert list(old.steps.values_list("message", "path", "status")) == [
        (REMOVED, "", None),
        ("", "customers", 201),
    ]
    recent.refresh_from_db()
    assert recent.data_read == DATA_READ and recent.personal_data_scrubbed_at is None
    assert recent.steps.get().message == "Created Fortnox customer 12 (Anna Svensson)."


def test_old_events_lose_personal_values_and_keep_deal_stages(installation):
    email = an_event(received_at=OLD)
    stage = an_event(
        object_type="deal",
        object_id="501",
        property_name="dealstage",
        property_value="closedwon",
        received_at=OLD,
    )
    recent = an_event(object_id="702", received_at=NOW - timedelta(days=1))

    assert personal_data_scrub_expired(NOW).events == 2

    email.refresh_from_db(), stage.refresh_from_db(), recent.refresh_from_db()
    assert (email.property_value, email.personal_data_scrubbed_at) == ("", NOW)
    assert (stage.property_value, stage.personal_data_scrubbed_at) == ("closedwon", NOW)
    assert (recent.property_value, recent.personal_data_scrubbed_at) == ("anna@kund.example", None)
    assert (email.hub_id, email.object_id, email.property_name) == (555, "701", "email")


def test_two_events_that_differ_only_by_the_value_are_both_scrubbed(installation):
    """The value is part of the deduplication key: blanking both must not collide."""
    first = an_event(property_value="anna@kund.example", received_at=OLD)
    second = an_event(property_value="anna.svensson@kund.example", received_at=OLD)

    assert personal_data_scrub_expired(NOW).events == 2

    values = sorted(WebhookEvent.objects.values_list("property_value", flat=True))
    assert values in (["", f"{REMOVED} {second.pk}"], ["", f"{REMOVED} {first.pk}"])


def test_a_privacy_deletion_scrubs_only_that_contacts_runs_events_and_mapping(installation):
    anna = a_run(installation, data_read=DATA_READ, error_message="Anna Svensson: no SKU")
    other_data = {**DATA_READ, "customer": {"type": "contacts", "id": "702"}}
    bertil = a_run(installation, trigger_key="workflow:2", data_read=other_data)
    company = a_run(
        installation,
        trigger_key="workflow:3",
        data_read={**DATA_READ, "customer": {"type": "companies", "id": "701"}},
    )
    # A customer sync of the contact on its own: what it read is the contact itself.
    anna_synced = a_run(
        installation,
        subject_type="contacts",
        subject_id="701",
        kind="customer_sync",
        trigger="workflow",
        trigger_key="workflow:4",
        data_read={"record": {"firstname": "Anna", "email": "anna@kund.example"}},
        error_message="Anna Svensson: no name",
    )
    anna_event, bertil_event = an_event(), an_event(object_id="702")
    CustomerMapping.objects.create(
        installation=installation,
        hubspot_object_type="contacts",
        hubspot_object_id="701",
        fortnox_customer_number="12",
    )
    CustomerMapping.objects.create(
        installation=installation,
        hubspot_object_type="companies",
        hubspot_object_id="701",
        fortnox_customer_number="13",
    )

    result = personal_data_scrub_contact(installation, "701", now=NOW)

    assert (result.runs, result.events) == (2, 1)
    anna.refresh_from_db(), anna_event.refresh_from_db(), anna_synced.refresh_from_db()
    assert anna.error_message == REMOVED and "Anna" not in json.dumps(anna.data_read)
    assert anna_synced.error_message == REMOVED and "Anna" not in json.dumps(anna_synced.data_read)
    assert anna_event.property_value == ""
    for untouched in (bertil, company):
        untouched.refresh_from_db()
        assert untouched.personal_data_scrubbed_at is None and "Anna" in json.dumps(
            untouched.data_read
        )
    bertil_event.refresh_from_db()
    assert bertil_event.property_value == "anna@kund.example"
    assert list(CustomerMapping.objects.values_list("hubspot_object_type", flat=True)) == [
        "companies"
    ]


def test_a_run_scrubbed_while_executing_is_scrubbed_again_once_finished(installation):
    """A privacy deletion can land while the contact's run executes; the run may then write
    what it read after the scrub. The next daily pass scrubs it again."""
    run = a_run(installation, status="running", data_read={"customer": DATA_READ["customer"]})
    personal_data_scrub_contact(installation, "701", now=NOW)
    # The run goes on: it writes its outcome (with the name) and finishes.
    Run.objects.filter(pk=run.pk).update(
        data_read=DATA_READ, status="succeeded", finished_at=NOW + timedelta(seconds=5)
    )

    assert personal_data_scrub_expired(NOW + timedelta(days=1)).runs == 1

    run.refresh_from_db()
    assert "Anna" not in json.dumps(run.data_read)
    assert personal_data_scrub_expired(NOW + timedelta(days=2)).runs == 0


def test_a_pass_is_bounded_and_says_when_more_is_left(installation, monkeypatch):
    monkeypatch.setattr(privacy, "ROWS_PER_BATCH", 2)
    for deal in range(5):
        a_run(installation, trigger_key=f"workflow:{deal}", data_read=DATA_READ, finished_at=OLD)

    passes = [personal_data_scrub_expired(NOW, limit=2) for _ in range(3)]

    assert [(p.runs, p.more) for p in passes] == [(2, True), (2, True), (1, False)]
    assert not Run.objects.filter(personal_data_scrubbed_at__isnull=True).exists()


def privacy_deletion(hub_id: int, contact: int) -> dict:
    return {
        "eventId": 3,
        "subscriptionId": 12,
        "portalId": hub_id,
        "appId": 1001,
        "occurredAt": 1_764_000_500_000,
        "subscriptionType": "contact.privacyDeletion",
        "attemptNumber": 0,
        "objectId": contact,
        "changeSource": "CRM_UI",
    }


def test_the_receiver_hands_a_privacy_deletion_to_the_scrub(installation):
    a_run(installation, data_read=DATA_READ)
    an_event()

    assert webhook_events_record([privacy_deletion(555, 701)]) == DeliveryOutcome([])
    assert webhook_events_decide(555) == 1  # the decide task, after the answer

    deletion = WebhookEvent.objects.get(subscription_type="contact.privacyDeletion")
    assert deletion.object_type == "contact" and deletion.object_id == "701"
    assert deletion.outcome == "privacy deletion of contact 701: scrubbed 1 runs, 2 events"
    run = Run.objects.get()
    assert run.personal_data_scrubbed_at and "Anna" not in json.dumps(run.data_read)
    # Delivered again (HubSpot retries, duplicates): recorded once, nothing more to do.
    assert webhook_events_record([privacy_deletion(555, 701)]) == DeliveryOutcome([])
    assert webhook_events_decide(555) == 0
    assert WebhookEvent.objects.filter(subscription_type="contact.privacyDeletion").count() == 1


def test_a_privacy_deletion_from_a_portal_without_installation_still_scrubs_its_events(db):
    an_event(hub_id=556)

    webhook_events_record([privacy_deletion(556, 701)])
    webhook_events_decide(556)

    assert WebhookEvent.objects.get(subscription_type="object.propertyChange").property_value == ""


def test_the_daily_task_runs_on_the_sweeps_queue():
    assert settings.CELERY_TASK_ROUTES["sync.tasks.personal_data_scrub_task"] == {"queue": "sweeps"}
    entry = settings.CELERY_BEAT_SCHEDULE["sync-personal-data-scrub"]
    assert entry == {"task": "sync.tasks.personal_data_scrub_task", "schedule": 86400.0}


def test_the_app_subscribes_to_privacy_deletions():
    path = ROOT / "hubspot-app" / "src" / "app" / "webhooks" / "webhooks-hsmeta.json"
    hub_events = json.loads(path.read_text())["config"]["subscriptions"]["hubEvents"]
    assert {"subscriptionType": "contact.privacyDeletion", "active": True} in hub_events


@pytest.mark.parametrize(
    "variable, value, message",
    [
        (
            "PERSONAL_DATA_RETENTION_DAYS",
            "0",
            "PERSONAL_DATA_RETENTION_DAYS=0: set it to 1 or more",
        ),
        (
            "PERSONAL_DATA_RETENTION_DAYS",
            "ninety",
            "PERSONAL_DATA_RETENTION_DAYS='ninety' is not a whole number",
        ),
        ("UNINSTALL_SCRUB_DAYS", "-1", "UNINSTALL_SCRUB_DAYS=-1: set it to 0 or more"),
    ],
)
def test_the_service_refuses_a_bad_retention_setting(variable, value, message):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "CLOUDIFY_ENV": "development",
            "DJANGO_SETTINGS_MODULE": "cloudify.settings.base",
            variable: value,
        },
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_a_change_after_an_erasure_in_the_same_delivery_is_decided_after_it(installation):
    """An erasure changes what the portal's later events read (the contact is no customer any
    more), so events are decided one by one in the order they happened: the contact's change
    after it starts no customer sync."""
    from integrations.models import FortnoxConnection

    FortnoxConnection.objects.create(installation=installation, database_number="1")
    CustomerMapping.objects.create(
        installation=installation,
        fortnox_database_number="1",
        hubspot_object_type="contacts",
        hubspot_object_id="701",
        fortnox_customer_number="12",
    )
    change = {
        **privacy_deletion(555, 701),
        "eventId": 4,
        "occurredAt": 1_764_000_600_000,
        "subscriptionType": "contact.propertyChange",
        "propertyName": "email",
        "propertyValue": "ny@kund.example",
    }

    webhook_events_record([change, privacy_deletion(555, 701)])  # HubSpot keeps no order
    webhook_events_decide(555)

    assert not CustomerMapping.objects.exists()
    assert not Run.objects.filter(kind="customer_sync").exists()
    outcome = WebhookEvent.objects.get(subscription_type="contact.propertyChange").outcome
    assert outcome == "ignored: this contact is not a Fortnox customer yet"
