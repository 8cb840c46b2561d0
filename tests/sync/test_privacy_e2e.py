"""Personal data leaves the run history, end to end: real runs (HubSpot's sandbox sends the
signed webhook, the real worker creates the invoice in Fortnox's sandbox), then the three
scrubs: past the retention period, on HubSpot's privacy deletion of a contact, and a grace
period after an uninstall. Time moves through the services' `now` or by ageing rows."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from integrations.models import FortnoxConnection, HubSpotInstallation
from sync.models import CustomerMapping, Run, WebhookEvent
from sync.privacy import REMOVED, personal_data_scrub_expired
from sync.privacy_uninstall import QUIET_AFTER, hubspot_quiet_installations_check
from sync.tasks import personal_data_scrub_task
from tests.flows import FORTNOX_NO_ORDER_COMPANY, OTHER_HUB, Portal
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


class Person:
    def __init__(self, first: str, last: str, email: str, address: str, phone: str) -> None:
        self.first, self.last, self.email, self.address, self.phone = (
            first,
            last,
            email,
            address,
            phone,
        )
        self.name = f"{first} {last}"

    @property
    def traces(self) -> list[str]:
        """What must not be left anywhere once the person's data is scrubbed."""
        return [self.name, self.first, self.last, self.email, self.address, self.phone]


ANNA = Person("Anna", "Svensson", "anna.svensson@kund.example", "Storgatan 12", "070-1112233")
BERTIL = Person("Bertil", "Lund", "bertil.lund@kund.example", "Ringvägen 7", "070-4445566")


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    portal = portal_ready(world)
    article_create(portal)
    return portal


def article_create(portal: Portal) -> None:
    article = {"Article": {"ArticleNumber": "CONS", "Description": "Consulting"}}
    assert portal.fortnox_api("POST", "articles", json=article).status_code == 201


def contact_run(portal: Portal, person: Person) -> tuple[str, Run]:
    """A contact is the deal's customer; the deal moves to Closed won and becomes an invoice."""
    contact = portal.create(
        "contacts",
        {
            "firstname": person.first,
            "lastname": person.last,
            "email": person.email,
            "address": person.address,
            "zip": "11122",
            "city": "Stockholm",
            "phone": person.phone,
        },
    )
    deal = portal.deal(
        [
            {
                "name": "Consulting",
                "quantity": "3",
                "price": "1000",
                "product": {"name": "Consulting", "hs_sku": "CONS"},
            }
        ],
        contact=contact,
        name=f"Offer for {person.name}",
    )
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    return contact, run


def wait_for_event(timeout: float = 30, **lookup) -> WebhookEvent:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = WebhookEvent.objects.filter(**lookup).first()
        if event is not None and event.outcome:
            return event
        time.sleep(0.1)
    raise AssertionError(f"HubSpot's sandbox delivered no event {lookup}")


def stored_text(run: Run) -> str:
    """Everything the service keeps about a run, as support could read it: the run row, its
    steps and the webhook events of its portal."""
    run.refresh_from_db()
    row = {f.attname: getattr(run, f.attname) for f in Run._meta.concrete_fields}
    steps = list(run.steps.values())
    events = list(WebhookEvent.objects.filter(hub_id=run.installation.hub_id).values())
    return json.dumps([row, steps, events], default=str, ensure_ascii=False)


def contact_text(hub_id: int, contact: str) -> str:
    events = WebhookEvent.objects.filter(hub_id=hub_id, object_type="contact", object_id=contact)
    return json.dumps(list(events.values()), default=str, ensure_ascii=False)


def assert_audit_kept(run: Run, before: Run) -> None:
    run.refresh_from_db()
    assert (run.pk, run.status, run.installation_id) == (
        before.pk,
        "succeeded",
        before.installation_id,
    )
    assert run.fortnox_document_number == before.fortnox_document_number != ""
    assert run.fortnox_customer_number == before.fortnox_customer_number != ""
    assert (run.total, run.currency) == (before.total, before.currency)
    assert (run.created_at, run.finished_at) == (before.created_at, before.finished_at)
    assert run.data_read["outcome"]["total"] == before.data_read["outcome"]["total"]
    assert run.data_read["customer"] == before.data_read["customer"]
    amounts = [(li["quantity"], li["price"]) for li in run.data_read["line_items"]]
    assert amounts == [(li["quantity"], li["price"]) for li in before.data_read["line_items"]]
    assert amounts and amounts[0][0] == "3"
    # The step log keeps its shape: which calls were made, and their answers.
    assert list(run.steps.values_list("kind", "service", "method", "path", "status")) == list(
        before.steps.values_list("kind", "service", "method", "path", "status")
    )


def test_a_finished_run_keeps_only_its_audit_row_after_the_retention_period(portal):
    contact, run = contact_run(portal, ANNA)
    wait_for_event(object_type="contact", object_id=contact, property_name="address")
    before = Run.objects.get(pk=run.pk)
    text = stored_text(run)
    # The run read the customer, said so in its steps, and HubSpot's events carry the values.
    for trace in ANNA.traces:
        assert trace in text, trace
    assert f"({ANNA.name})" in " ".join(run.steps.values_list("message", flat=True))

    days = settings.PERSONAL_DATA_RETENTION_DAYS
    a_day_early = personal_data_scrub_expired(timezone.now() + timedelta(days=days - 1))
    assert (a_day_early.runs, a_day_early.events) == (0, 0)
    assert stored_text(run) == text

    after = personal_data_scrub_expired(timezone.now() + timedelta(days=days + 1))

    assert after.runs == 1 and after.events >= 9  # the deal stage, the contact's 8 events
    scrubbed = stored_text(run)
    for trace in ANNA.traces:
        assert trace not in scrubbed, trace
    assert "Consulting" not in json.dumps(run.data_read)  # free text goes too
    assert_audit_kept(run, before)
    assert run.personal_data_scrubbed_at is not None
    assert REMOVED in run.steps.values_list("message", flat=True)
    # The event that triggered the run still says which stage it was.
    stage = WebhookEvent.objects.get(run=run)
    assert (stage.property_name, stage.property_value) == ("dealstage", "closedwon")
    # Scrubbing again finds nothing left to do.
    again = personal_data_scrub_expired(timezone.now() + timedelta(days=days + 1))
    assert (again.runs, again.events) == (0, 0)


def test_hubspots_privacy_deletion_of_a_contact_scrubs_its_runs_and_events(portal):
    anna, anna_run = contact_run(portal, ANNA)
    bertil, bertil_run = contact_run(portal, BERTIL)
    wait_for_event(object_type="contact", object_id=anna, property_name="address")
    wait_for_event(object_type="contact", object_id=bertil, property_name="address")
    before = Run.objects.get(pk=anna_run.pk)
    assert CustomerMapping.objects.filter(hubspot_object_id=anna).exists()
    for trace in ANNA.traces:
        assert trace in stored_text(anna_run), trace

    # A user deletes Anna in HubSpot under GDPR: HubSpot sends the signed privacyDeletion event.
    portal.world.hubspot_admin(
        "POST", f"/_sandbox/portals/{portal.hub}/contacts/{anna}/privacy-delete"
    )
    event = wait_for_event(subscription_type="contact.privacyDeletion", object_id=anna)
    gone = requests.get(
        f"{portal.world.hubspot}/_sandbox/portals/{portal.hub}/objects/contacts/{anna}", timeout=10
    )
    assert gone.status_code == 404  # deleted for good in HubSpot, not archived

    # Its creation, its six values and the privacy deletion itself.
    about_anna = WebhookEvent.objects.filter(object_type="contact", object_id=anna)
    assert about_anna.count() == 9
    assert event.outcome == f"privacy deletion of contact {anna}: scrubbed 1 runs, 9 events"
    run_text = stored_text(anna_run)
    for trace in ANNA.traces:
        assert trace not in run_text, trace
        assert trace not in contact_text(portal.hub, anna), trace
    assert_audit_kept(anna_run, before)
    assert not CustomerMapping.objects.filter(hubspot_object_id=anna).exists()
    # Bertil's run and events are his own and stay as they were.
    bertil_run.refresh_from_db()
    assert bertil_run.personal_data_scrubbed_at is None
    for trace in BERTIL.traces:
        assert trace in stored_text(bertil_run), trace
        assert trace in contact_text(portal.hub, bertil) or trace == BERTIL.name, trace
    assert CustomerMapping.objects.filter(hubspot_object_id=bertil).exists()


def fortnox_refresh_works(world, refresh_token: str) -> bool:
    """Fortnox's own answer: does this refresh token still give tokens?"""
    response = requests.post(
        f"{world.fortnox}/oauth-v1/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(settings.FORTNOX_CLIENT_ID, settings.FORTNOX_CLIENT_SECRET),
        timeout=10,
    )
    return response.status_code == 200


def uninstalled_quietly(world, hub: int) -> None:
    """The portal uninstalls the app and sends nothing more (HubSpot has no uninstall event);
    the service last refreshed its HubSpot token more than a week ago."""
    world.hubspot_admin("POST", "/_sandbox/faults/uninstall", json={"portal": hub})
    HubSpotInstallation.objects.filter(hub_id=hub).update(
        last_refreshed_at=timezone.now() - QUIET_AFTER - timedelta(hours=1)
    )


def uninstalled_days_ago(hub: int, days: int) -> None:
    HubSpotInstallation.objects.filter(hub_id=hub).update(
        uninstalled_at=timezone.now() - timedelta(days=days)
    )


def test_a_portal_uninstalled_longer_than_the_grace_period_is_scrubbed_and_disconnected(
    world, celery_worker_process
):
    gone = portal_ready(world)
    article_create(gone)
    recent = portal_ready(world, hub=OTHER_HUB, company=FORTNOX_NO_ORDER_COMPANY)
    article_create(recent)
    _contact, gone_run = contact_run(gone, ANNA)
    _contact, recent_run = contact_run(recent, BERTIL)
    gone_tokens = FortnoxConnection.objects.get(installation__hub_id=gone.hub).refresh_token
    recent_tokens = FortnoxConnection.objects.get(installation__hub_id=recent.hub).refresh_token
    uninstalled_quietly(world, gone.hub)
    uninstalled_quietly(world, recent.hub)

    # The daily task asks HubSpot about quiet portals: both uninstalled, as of today.
    first = personal_data_scrub_task()
    assert (first["uninstalls_found"], first["runs"], first["fortnox_connections"]) == (2, 0, 0)
    for hub in (gone.hub, recent.hub):
        installation = HubSpotInstallation.objects.get(hub_id=hub)
        assert installation.status == "uninstalled"
        assert timezone.now() - installation.uninstalled_at < timedelta(minutes=5)
    grace = settings.UNINSTALL_SCRUB_DAYS
    uninstalled_days_ago(gone.hub, grace + 1)
    uninstalled_days_ago(recent.hub, grace - 1)

    result = personal_data_scrub_task()  # a later day's pass

    assert result["fortnox_connections"] == 1
    # Long gone: the run keeps its audit row only, and Fortnox no longer honours the tokens.
    for trace in ANNA.traces:
        assert trace not in stored_text(gone_run), trace
    gone_run.refresh_from_db()
    assert gone_run.fortnox_document_number and gone_run.status == "succeeded"
    connection = FortnoxConnection.objects.get(installation__hub_id=gone.hub)
    assert connection.status == "disconnected"
    assert (connection.refresh_token, connection.access_token) == ("", "")
    assert not fortnox_refresh_works(world, gone_tokens)
    assert HubSpotInstallation.objects.get(hub_id=gone.hub).installed_by_email == ""
    # Uninstalled a day short of the grace period: everything is still there to come back to.
    recent_run.refresh_from_db()
    assert recent_run.personal_data_scrubbed_at is None
    for trace in BERTIL.traces:
        assert trace in stored_text(recent_run), trace
    connection = FortnoxConnection.objects.get(installation__hub_id=recent.hub)
    assert connection.status == "connected" and connection.refresh_token == recent_tokens
    assert fortnox_refresh_works(world, recent_tokens)


def test_a_quiet_portal_that_still_has_the_app_is_asked_once_a_week(settings, hubspot_url):
    """HubSpot answers the check: the portal stays installed and is not asked again soon."""
    settings.HUBSPOT_API_BASE = hubspot_url
    pair = requests.post(f"{hubspot_url}/_sandbox/tokens", json={"portal": 9000001}, timeout=10)
    installation = HubSpotInstallation.objects.create(hub_id=9000001)
    installation.store_tokens(pair.json()["access_token"], pair.json()["refresh_token"], 1800)
    installation.last_refreshed_at = timezone.now() - QUIET_AFTER - timedelta(hours=1)
    installation.save()
    asked_before = token_refreshes(hubspot_url)

    assert hubspot_quiet_installations_check(timezone.now()).uninstalls_found == 0
    assert hubspot_quiet_installations_check(timezone.now()).uninstalls_found == 0

    installation.refresh_from_db()
    assert installation.status == "active" and installation.uninstalled_at is None
    assert timezone.now() - installation.last_refreshed_at < timedelta(minutes=5)
    assert token_refreshes(hubspot_url) == asked_before + 1  # asked once, not twice


def token_refreshes(hubspot_url: str) -> int:
    stats = requests.get(f"{hubspot_url}/_sandbox/tokens/stats", timeout=10).json()
    return stats["token_calls"].get("refresh_token", 0)
