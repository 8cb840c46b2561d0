"""The success note's figures: Fortnox's own, formatted for the note's language (issue 13)."""

from __future__ import annotations

from notes.services import money_text, note_body, note_visible_text

SUCCESS = {
    "document_label": "invoice",
    "document_number": "12",
    "customer_name": "Kund AB",
    "customer_number": "3",
    "total": "1250",
    "total_vat": "250",
    "net": "1000",
    "round_off": "0",
    "document_date": "2026-11-27",
    "due_date": "2026-12-27",
    "currency": "SEK",
    "row_count": 1,
    "created_articles": [],
    "placeholder_rows": [],
    "document_url": "https://apps.fortnox.se/x",
    "differences": [],
    "checked": True,
    "run_id": 7,
    "trigger_label": "Deal stage",
}


def test_amounts_in_swedish_and_english():
    assert money_text("1250", "SEK", "sv") == "1\xa0250,00 kr"
    assert money_text("1250", "SEK", "en") == "1,250.00 SEK"
    assert money_text("-0.4", "EUR", "sv") == "-0,40 EUR"
    assert money_text("", "SEK", "sv") == ""


def test_the_success_note_shows_fortnoxs_dates_and_figures_and_the_check():
    text = note_visible_text(note_body("success", SUCCESS))
    assert "Invoice date: 2026-11-27; due date: 2026-12-27" in text
    assert "Net: 1,000.00 SEK; VAT: 250.00 SEK; Total: 1,250.00 SEK" in text
    assert "Checked: matches the deal." in text
    swedish = note_visible_text(note_body("success", {**SUCCESS, "language": "sv"}))
    assert "Netto: 1 000,00 kr; Moms: 250,00 kr; Totalt: 1 250,00 kr" in swedish
    assert "Fakturadatum: 2026-11-27; förfallodatum: 2026-12-27" in swedish


def test_a_zero_total_from_fortnox_is_shown_as_zero_not_replaced():
    text = note_visible_text(
        note_body("success", {**SUCCESS, "total": "0", "net": "0", "total_vat": "0"})
    )
    assert "Total: 0.00 SEK" in text


def test_round_off_is_shown_and_differences_say_what_to_do():
    data = {
        **SUCCESS,
        "round_off": "0.25",
        "differences": [{"what": "Rows", "deal": "2", "fortnox": "1", "kind": "count"}],
        "vat_overrides": [{"line": "Licence", "hubspot_vat": "25", "reason": "export"}],
    }
    text = note_visible_text(note_body("success", data))
    assert "(öre rounding 0.25 SEK)" in text
    assert "Rows: 1 in Fortnox, 2 in HubSpot" in text
    assert "correct it in Fortnox before sending it" in text
    assert "VAT 0 % on Licence (export; HubSpot: 25 %)" in text
