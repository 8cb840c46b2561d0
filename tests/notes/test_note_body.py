"""The note a user reads on the deal, rendered from plain data (notes/services.py)."""

from __future__ import annotations

import pytest

from notes.services import NoteDataInvalid, note_body, note_has_marker, note_marker
from tests.flows import visible_text

FAILURE = {
    "document_label": "invoice",
    "document_number": "",
    "message": "Fortnox cannot find the article.",
    "fix": "Create the article in Fortnox, then Replay.",
    "code": "2000428",
    "service_label": "Fortnox",
    "service_message": "Kan inte hitta artikeln <KONS-1>",
    "replay_url": "https://app.example/replay/abc",
    "run_id": 45,
    "trigger_label": "Deal stage",
}


def test_a_failure_note_says_nothing_was_created_what_went_wrong_and_what_to_do():
    text = visible_text(note_body("failure", FAILURE))
    assert text == (
        "No Fortnox invoice was created. What went wrong: Fortnox cannot find the article. "
        "Fortnox said: [2000428] Kan inte hitta artikeln <KONS-1> What to change: Create the "
        "article in Fortnox, then Replay. Replay runs it again with the deal's current data. "
        "Fortnox for HubSpot · run 45 · Deal stage"
    )
    assert "&lt;KONS-1&gt;" in note_body("failure", FAILURE)  # the service's text is escaped


def test_a_failure_note_after_the_document_was_created_says_it_exists():
    text = visible_text(note_body("failure", {**FAILURE, "document_number": "123"}))
    assert text.startswith("Fortnox invoice 123 was created, but the run did not finish.")
    assert "No Fortnox invoice" not in text
    assert "keeps invoice 123 instead of creating another" in text


def test_missing_data_is_named():
    with pytest.raises(NoteDataInvalid, match="needs fix, run_id"):
        note_body("skipped", {"message": "m", "trigger_label": "Deal stage"})
    with pytest.raises(NoteDataInvalid, match="unknown note template 'nope'"):
        note_body("nope", {})


def test_the_marker_names_one_run_only():
    body = note_body("skipped", {"message": "m", "fix": "", "run_id": 45, "trigger_label": ""})
    assert note_has_marker(body, note_marker(45))
    assert not note_has_marker(body, note_marker(4))
    assert not note_has_marker(body, note_marker(456))
