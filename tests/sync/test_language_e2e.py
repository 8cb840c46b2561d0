"""Notes and documents in the portal's language (SyncSettings.language, Swedish by default):
the note as read from the HubSpot sandbox, the document's Language as read back from the
Fortnox sandbox."""

from __future__ import annotations

import re

import pytest

from sync.models import SyncSettings
from tests.sync.test_runs_e2e import configure, note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {
    "name": "Consulting",
    "quantity": "1",
    "price": "1234.50",
    "hs_tax_rate": "25",
    "product": {"name": "Consulting", "hs_sku": "1"},
}


def test_a_swedish_portal_writes_the_note_and_the_invoice_in_swedish(world, celery_worker_process):
    portal = portal_ready(world)
    configure(portal, language=SyncSettings.Language.SWEDISH)
    deal = portal.deal([LINE])

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert invoice["Language"] == "SV"
    text = note_text(portal, deal)
    number = run.fortnox_document_number
    assert text.startswith(f"Fortnox-faktura {number} skapad (utkast: inte bokförd, inte skickad).")
    assert re.search(r"Fakturadatum: \d{4}-\d{2}-\d{2}; förfallodatum: \d{4}-\d{2}-\d{2}", text)
    # Fortnox rounds the total to whole kronor (öresavrundning); the note shows its figures.
    assert (
        "Netto: 1 234,50 kr; Moms: 308,63 kr; Totalt: 1 543,00 kr (öresavrundning -0,13 kr)"
        in text.replace("\xa0", " ")
    )
    assert "Kontrollerad: stämmer med affären." in text
    assert f"Fortnox för HubSpot · körning {run.pk} · Affärsfas" in text
    assert "Öppna fakturan i Fortnox" in text


def test_an_english_portal_writes_english_documents_for_swedish_customers(
    world, celery_worker_process
):
    portal = portal_ready(world)  # English (the fixture)
    deal = portal.deal([LINE])

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert portal.fortnox_record("invoices", run.fortnox_document_number)["Language"] == "EN"
    assert note_text(portal, deal).startswith(f"Fortnox invoice {run.fortnox_document_number}")
