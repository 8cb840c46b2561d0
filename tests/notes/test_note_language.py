"""Notes in the portal's language (the data's `language`, SyncSettings.language): Swedish
words, Swedish money, ISO dates, and the marker a retry looks for in the same language."""

from __future__ import annotations

from notes.services import note_body, note_has_marker, note_marker, task_subject
from tests.flows import visible_text
from tests.notes.test_note_body import FAILURE


def test_a_swedish_failure_note_reads_swedish_to_its_footer():
    body = note_body("failure", {**FAILURE, "language": "sv", "document_number": "123"})

    assert visible_text(body) == (
        "Fortnox-faktura 123 skapades, men körningen blev inte klar. Vad som gick fel: Fortnox "
        "cannot find the article. Fortnox svarade: [2000428] Kan inte hitta artikeln <KONS-1> "
        "Det här behöver ändras: Create the article in Fortnox, then Replay. Kör igen gör om "
        "körningen med affärens nuvarande uppgifter och behåller faktura 123 i stället för att "
        "skapa en till. Fortnox för HubSpot · körning 45 · Affärsfas"
    )
    assert note_has_marker(body, note_marker(45, "sv"))
    assert not note_has_marker(body, note_marker(4, "sv"))


def test_a_skipped_order_note_and_the_task_title_in_swedish():
    skipped = note_body(
        "skipped",
        {"message": "m", "fix": "", "run_id": 3, "trigger_label": "Replay", "language": "sv"},
    )
    assert visible_text(skipped) == (
        "Inget skapades i Fortnox. m Fortnox för HubSpot · körning 3 · Kör igen"
    )
    order = {**FAILURE, "document_label": "order", "language": "sv"}
    assert task_subject(order) == "Fortnox-order skapades inte: rätta affären och kör igen"
    assert task_subject({**order, "language": "en"}) == (
        "Fortnox order not created: fix the deal and Replay"
    )
