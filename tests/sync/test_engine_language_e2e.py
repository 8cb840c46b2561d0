"""A Swedish portal's run speaks Swedish end to end: the failure and its fix, the skip reason
and the run's info lines are stored in the portal's language (sync/execute.py), so the note
read back from the HubSpot sandbox, and the run's steps on the Runs tab, read Swedish."""

from __future__ import annotations

import pytest
import requests

from sync.models import SyncSettings
from tests.flows import FORTNOX_NO_ORDER_COMPANY, visible_text
from tests.sync.test_runs_e2e import configure, note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {"name": "Konsulttimme", "quantity": "1", "price": "100", "hs_sku": "1"}


def swedish_portal(world, browser: requests.Session | None = None):
    portal = portal_ready(world, browser=browser)
    configure(portal, language=SyncSettings.Language.SWEDISH)
    return portal


def failed_note(portal, deal: str) -> str:
    """Move the deal to the trigger stage; its one run fails; the note as HubSpot shows it."""
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "failed", run.status
    return note_text(portal, deal)


def test_a_product_without_sku_fails_with_the_problem_and_its_fix_in_swedish(
    world, celery_worker_process
):
    portal = swedish_portal(world)
    deal = portal.deal(
        [
            {
                "name": "Mystery box",
                "quantity": "1",
                "price": "10",
                "product": {"name": "Mystery box"},
            }
        ]
    )

    text = failed_note(portal, deal)
    assert "Ingen Fortnox-faktura skapades." in text
    assert (
        "Vad som gick fel: SKU får inte vara tomt: produkten 'Mystery box' på affären saknar "
        "SKU, och appen hittar artiklarna i Fortnox på SKU."
    ) in text
    assert (
        "Det här behöver ändras: Ange SKU på produkten i HubSpot (den måste vara samma som "
        "artikelnumret i Fortnox), eller byt sökmetod för artiklar till produktnamn i appens "
        "inställningar; kör sedan igen."
    ) in text
    assert "should" not in text and "Replay" not in text


def test_a_deal_without_company_or_contact_fails_in_swedish(world, celery_worker_process):
    portal = swedish_portal(world)
    deal = portal.deal([LINE], contact="")  # no customer at all

    text = failed_note(portal, deal)
    assert (
        "Affären har inget kopplat företag eller någon kopplad kontakt, så det finns ingen kund "
        "till fakturan eller ordern."
    ) in text
    assert "Koppla ett företag (eller en kontakt) till affären och kör sedan igen." in text


def test_an_article_not_in_fortnox_fails_naming_the_sku_in_swedish(world, celery_worker_process):
    portal = swedish_portal(world)
    deal = portal.deal([{"name": "Udda sak", "quantity": "1", "price": "99", "hs_sku": "NOPE"}])

    text = failed_note(portal, deal)
    assert (
        "Ingen artikel i Fortnox har SKU 'NOPE' (produkten 'Udda sak'), så fakturan eller "
        "ordern skapades inte."
    ) in text
    assert (
        "Skapa artikeln i Fortnox, rätta produkten i HubSpot eller ändra inställningen 'När "
        "ingen artikel i Fortnox matchar' så att standardartikeln används eller artiklar skapas; "
        "kör sedan igen."
    ) in text


def test_a_customer_matched_by_name_is_told_in_swedish_on_the_note_and_the_runs_tab(
    world, celery_worker_process
):
    browser = requests.Session()
    portal = swedish_portal(world, browser)
    existing = portal.fortnox_api(
        "POST", "customers", json={"Customer": {"Name": "Namnet Är Allt AB", "Type": "COMPANY"}}
    ).json()["Customer"]
    company = portal.create("companies", {"name": "namnet är allt ab"})
    deal = portal.deal([LINE], company=company)

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    number = existing["CustomerNumber"]
    assert (
        f"Kund: Namnet Är Allt AB (kundnummer {number} i Fortnox, hittad på namn: kontrollera "
        "att det är rätt kund)"
    ) in note_text(portal, deal)
    browser.cookies.set("django_language", "sv")
    detail = browser.get(f"{world.app}/settings/{portal.hub}/runs/{run.pk}/", timeout=10)
    assert detail.status_code == 200
    assert f"Hittade kund {number} i Fortnox, matchad på namn." in visible_text(detail.text)


def test_a_missing_fortnox_licence_is_explained_in_swedish(world, celery_worker_process):
    portal = portal_ready(world, company=FORTNOX_NO_ORDER_COMPANY, document_type="order")
    configure(portal, language=SyncSettings.Language.SWEDISH)
    deal = portal.deal([LINE])

    text = failed_note(portal, deal)
    assert (
        "Det finns ingen aktiv Fortnox-licens för order: det kräver Oo (Order & Offert) och Ar."
    ) in text
    assert (
        "Be er Fortnox-administratör att aktivera Oo (Order & Offert) och Ar för företaget och "
        "kör sedan igen."
    ) in text
    assert "[2001101]" in text  # Fortnox's own code and words stay as Fortnox gave them


def test_a_trigger_stage_reached_again_is_skipped_with_a_swedish_note(world, celery_worker_process):
    portal = swedish_portal(world)
    deal = portal.deal([LINE])
    portal.move(deal)
    [created] = wait_for_runs(deal)
    assert created.status == "succeeded", created.error_message

    portal.move(deal, "appointmentscheduled")
    portal.move(deal)
    runs = wait_for_runs(deal, count=2)

    assert [r.status for r in runs] == ["succeeded", "skipped"]
    notes = sorted(portal.notes(deal), key=lambda n: n["properties"]["hs_timestamp"])
    skipped = visible_text(notes[-1]["properties"]["hs_note_body"])
    assert (
        f"Affären nådde sin utlösande fas igen, men Fortnox-faktura "
        f"{created.fortnox_document_number} har redan skapats för den (körning {created.pk}), "
        "så inget nytt skapades."
    ) in skipped
    assert "Du behöver inte göra något." in skipped
