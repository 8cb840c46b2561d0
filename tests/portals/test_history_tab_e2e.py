"""The History tab: every settings change, connect and disconnect included, who and when, newest
first, a page at a time, dates in the page's language."""

from __future__ import annotations

import re

import pytest
import requests

from integrations.models import HubSpotInstallation
from portals.models import SettingsChange
from tests.flows import HUB, browser_connect_fortnox, csrf_token, visible_text
from tests.portals.settings_helpers import open_page, post_form, section_text, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(world):
    with requests.Session() as session:
        signed_in(world, session)
        yield session


def _rows(html: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    return [visible_text(row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_connect_reconnect_and_disconnect_are_listed_newest_first(world, browser):
    assert "No setting has been changed yet." in visible_text(
        open_page(world, browser, "history/").text
    )
    browser_connect_fortnox(world, browser)
    browser_connect_fortnox(world, browser)  # reconnect to the same company
    overview = open_page(world, browser, "")
    post_form(world, browser, overview, "/fortnox/disconnect", {"portal": HUB})

    rows = _rows(open_page(world, browser, "history/").text)

    company = HubSpotInstallation.objects.get(hub_id=HUB).fortnox_connections.first().company_name
    assert len(rows) == 3
    # Newest first: the disconnect, the reconnect, the first connect.
    assert re.match(r"\w{3}\.? \d{1,2}, 20\d\d, .+ admin@sandbox\.example ", rows[0]), rows[0]
    assert f"Connection: Fortnox connection {company}" in rows[0]
    assert rows[0].endswith("Not connected")
    assert f"Connection: Fortnox connection (reconnected) {company}" in rows[1]
    assert f"Connection: Fortnox connection Not connected {company}" in rows[2]


def test_the_history_is_paginated_and_dated_in_swedish(world, browser):
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    SettingsChange.objects.bulk_create(
        SettingsChange(
            installation=installation,
            email="finance@kund.example",
            section="general",
            setting=f"Change {n}",
            old_value=str(n - 1),
            new_value=str(n),
        )
        for n in range(1, 56)
    )
    page = open_page(world, browser, "history/")
    browser.post(
        f"{world.app}/i18n/setlang/",
        data={"language": "sv", "next": "/", "csrfmiddlewaretoken": csrf_token(page.text)},
        timeout=10,
    )

    first = open_page(world, browser, "history/")
    second = open_page(world, browser, "history/?page=2")

    rows = _rows(first.text)
    assert len(rows) == 50
    assert re.fullmatch(
        r"20\d\d-\d\d-\d\d \d\d:\d\d finance@kund\.example Allmänt: Change 55 54 55", rows[0]
    ), rows[0]
    assert "Sida 1 av 2" in section_text(first.text, "history")
    assert [row.split("Change ")[1] for row in _rows(second.text)] == [
        f"{n} {n - 1} {n}" for n in range(5, 0, -1)
    ]
