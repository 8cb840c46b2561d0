"""Replay of a failed customer sync (issue 15), through the link in its failure note, over HTTP:
the page speaks of the company or contact and its Fortnox customer (not of a deal or a
document), the Replay reads the record as it is now, and a second Replay of the same trigger does
nothing. In English and in Swedish."""

from __future__ import annotations

import re

import pytest
import requests

from sync.models import Run, SyncSettings
from tests.flows import Portal, csrf_token, visible_text
from tests.sync.test_customer_sync_e2e import asked_runs
from tests.sync.test_customer_workflow_e2e import (
    execution,
    note_texts,
    runs_of,
    workflow_start,
    workflow_sync,
)
from tests.sync.test_runs_e2e import portal_ready

pytestmark = pytest.mark.django_db(transaction=True)

UI_DOMAIN = "app-eu1.hubspot.com"  # what the HubSpot sandbox's account details answer


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def replay_link(portal: Portal, object_type: str, object_id: str) -> str:
    """The Replay link of the record's failure note, as the user clicks it in HubSpot."""
    [note] = portal.notes(object_id, object_type=object_type)
    match = re.search(r'href="([^"]*/replay/[^"]+)"', note["properties"]["hs_note_body"])
    assert match, note["properties"]["hs_note_body"]
    return match.group(1).replace("&amp;", "&")


def hrefs(page: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', page))


def fix(portal: Portal, object_type: str, object_id: str, **properties: str) -> None:
    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/{object_type}/{object_id}",
        json={"properties": properties},
    )


def test_replay_of_a_failed_company_sync_syncs_the_fixed_company_once(portal):
    company = portal.create(
        "companies", {"name": "Omstart AB", "fortnox_organisation_number": "12-34", "city": "Malmö"}
    )
    done, failed = workflow_sync(portal, "COMPANY", company)
    assert done["state"] == "FAIL_CONTINUE"
    link = replay_link(portal, "companies", company)
    browser = requests.Session()

    page = browser.get(link, timeout=10)

    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Company: Omstart AB" in text
    assert f"Run {failed.pk} (Customer sync) for HubSpot company {company} ended as failed" in text
    assert "Why: The organisation number '12-34' of the company 'Omstart AB'" in text
    assert "What to change first: Write it as NNNNNN-NNNN on the company in HubSpot" in text
    assert (
        "Replay reads the company again as it is now and creates its Fortnox customer, or updates "
        "the customer with what changed in HubSpot. It never creates a second customer for it, "
        "and creates no invoice or order. The result appears as a note on the company."
    ) in text
    assert "deal" not in text.lower() and "document" not in text.lower()
    company_url = f"https://{UI_DOMAIN}/contacts/{portal.hub}/record/0-2/{company}"
    assert company_url in hrefs(page.text)

    fix(portal, "companies", company, fortnox_organisation_number="556677-0011")
    answer = browser.post(link, data={"csrfmiddlewaretoken": csrf_token(page.text)}, timeout=10)

    assert answer.status_code == 200
    failed_run, replayed = asked_runs(company, 2)
    assert (failed_run.pk, failed_run.status) == (failed.pk, "failed")
    assert (replayed.status, replayed.trigger, replayed.replay_of_id) == (
        "succeeded",
        "replay",
        failed.pk,
    )
    result = visible_text(answer.text)
    assert (
        f"Replay started (run {replayed.pk}): it reads the company again as it is now and creates "
        "its Fortnox customer, or updates it with what changed. The result will appear as a note "
        "on the company in a few moments."
    ) in result
    assert "Open the company Omstart AB in HubSpot" in result
    assert company_url in hrefs(answer.text)
    number = portal.record("companies", company)["properties"]["fortnox_customer_number"]
    customer = portal.fortnox_record("customers", number)
    assert (customer["Name"], customer["OrganisationNumber"], customer["City"]) == (
        "Omstart AB",
        "556677-0011",
        "Malmö",
    )
    notes = note_texts(portal, "companies", company)
    assert len(notes) == 2
    assert any(
        f"Fortnox customer {number} (Omstart AB) was created from this company." in text
        and f"run {replayed.pk} · Replay" in text
        for text in notes
    )
    # The workflow had its answer when the sync failed; the Replay does not answer it again.
    assert execution(portal, done["callbackId"])["state"] == "FAIL_CONTINUE"
    assert execution(portal, done["callbackId"])["late_completions"] == 0

    # The same link again: that trigger is done.
    again = browser.get(link, timeout=10)
    assert (
        f"A later run (run {replayed.pk}) of this trigger already succeeded: Replay will do "
        "nothing."
    ) in visible_text(again.text)
    refused = browser.post(link, data={"csrfmiddlewaretoken": csrf_token(again.text)}, timeout=10)
    assert (
        f"Nothing to do: run {replayed.pk} already synced the company to Fortnox customer "
        f"{number} for this trigger. No new sync was started."
    ) in visible_text(refused.text)
    assert runs_of(company).exclude(trigger=Run.Trigger.CHANGE).count() == 2
    assert len([c for c in portal.fortnox_records("customers") if c["Name"] == "Omstart AB"]) == 1


def test_replay_of_a_contact_sync_speaks_swedish(portal):
    SyncSettings.objects.filter(installation__hub_id=portal.hub).update(
        language=SyncSettings.Language.SWEDISH
    )
    contact = portal.create(
        "contacts",
        {"firstname": "Sven", "lastname": "Ek", "email": "sven@ek.example", "country": "Atlantis"},
    )
    started = workflow_start(portal, "CONTACT", contact)
    [failed] = asked_runs(contact)
    assert failed.status == "failed"
    assert "Atlantis" in failed.error_message
    link = replay_link(portal, "contacts", contact)
    browser = requests.Session()
    browser.headers["Accept-Language"] = "sv"

    page = browser.get(link, timeout=10)

    text = visible_text(page.text)
    assert "Kontakt: Sven Ek" in text
    assert f"Körning {failed.pk} (Kundsynk) för HubSpot-kontakt {contact} slutade som" in text
    assert "Kör igen läser kontakten på nytt som det ser ut nu och skapar Fortnox-kunden" in text
    assert "Resultatet visas som en anteckning på kontakten." in text

    fix(portal, "contacts", contact, country="Sverige")
    answer = browser.post(link, data={"csrfmiddlewaretoken": csrf_token(page.text)}, timeout=10)

    _, replayed = asked_runs(contact, 2)
    assert replayed.status == "succeeded", replayed.error_message
    result = visible_text(answer.text)
    assert (
        f"Körningen startades igen (körning {replayed.pk}): den läser kontakten på nytt som "
        "det ser ut nu och skapar Fortnox-kunden, eller uppdaterar den med det som ändrats. "
        "Resultatet visas om en liten stund som en anteckning på kontakten."
    ) in result
    assert "Öppna kontakten Sven Ek i HubSpot" in result
    customer = portal.fortnox_record("customers", replayed.fortnox_customer_number)
    assert (customer["Name"], customer["Type"], customer["CountryCode"]) == (
        "Sven Ek",
        "PRIVATE",
        "SE",
    )
    assert execution(portal, started["callbackId"])["state"] == "FAIL_CONTINUE"
    # Besides the change syncs HubSpot's late events may start once it is a customer.
    assert Run.objects.filter(subject_id=contact).exclude(trigger=Run.Trigger.CHANGE).count() == 2
