"""The General tab: the language of notes and documents, the task on failure and the app cards'
settings, saved, refused with the field named, and recorded in the history."""

from __future__ import annotations

import pytest
import requests

from tests.flows import HUB, visible_text
from tests.portals.settings_helpers import checked, open_page, post_form, section_text, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

# What the page's app card settings post when left as they are.
CARD_DEFAULTS = {"card_actions": "allow_list", "card_document_type": "invoice"}


@pytest.fixture
def browser(world):
    with requests.Session() as session:
        signed_in(world, session)
        yield session


def test_swedish_is_the_default_and_the_choices_are_saved_and_recorded(world, browser):
    page = open_page(world, browser, "general/")
    assert page.status_code == 200
    assert checked(page.text, "language") == ["sv"]
    assert checked(page.text, "failure_task") == []
    assert "On failure, also create a task for the deal owner" in visible_text(page.text)

    saved = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/general/",
        {"language": "en", "failure_task": "on", **CARD_DEFAULTS},
    )

    assert saved.url == f"{world.app}/settings/{HUB}/general/"
    assert "Saved." in visible_text(saved.text)
    assert checked(saved.text, "language") == ["en"]
    assert checked(saved.text, "failure_task") == ["on"]
    history = section_text(open_page(world, browser, "history/").text, "history")
    assert "General: Language of notes and documents Svenska English" in history
    assert "General: On failure, also create a task for the deal owner off on" in history


def test_an_unknown_language_is_refused_naming_the_field_and_nothing_is_saved(world, browser):
    page = open_page(world, browser, "general/")

    refused = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/general/",
        {"language": "de", "failure_task": "on", **CARD_DEFAULTS},
    )

    assert refused.status_code == 400
    assert "Language of notes and documents: choose Svenska or English." in visible_text(
        refused.text
    )
    again = open_page(world, browser, "general/")
    assert checked(again.text, "language") == ["sv"]
    assert checked(again.text, "failure_task") == []


def test_who_may_use_the_card_buttons_and_what_create_now_makes_are_saved_and_recorded(
    world, browser
):
    page = open_page(world, browser, "general/")
    text = visible_text(page.text)
    assert checked(page.text, "card_actions") == ["allow_list"]
    assert checked(page.text, "card_document_type") == ["invoice"]
    assert (
        "HubSpot's way for apps to ask who may edit one record is still in beta, so edit rights "
        "on the record are not the rule yet." in text
    )

    saved = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/general/",
        {"language": "sv", "card_actions": "everyone", "card_document_type": "order"},
    )

    assert "Saved." in visible_text(saved.text)
    assert checked(saved.text, "card_actions") == ["everyone"]
    assert checked(saved.text, "card_document_type") == ["order"]
    history = section_text(open_page(world, browser, "history/").text, "history")
    assert (
        "General: Who may use the app card's buttons Super admins and the users allowed on the "
        "Users tab Every user who can open the record in HubSpot" in history
    )
    assert "General: Create now on the deal card makes An invoice An order" in history


def test_an_unknown_card_choice_is_refused_naming_the_field(world, browser):
    page = open_page(world, browser, "general/")

    refused = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/general/",
        {"language": "sv", "card_actions": "owners", "card_document_type": "quote"},
    )

    assert refused.status_code == 400
    text = visible_text(refused.text)
    assert "Who may use the app card's buttons: choose one of the two." in text
    assert "Create now on the deal card makes: choose an invoice or an order." in text
