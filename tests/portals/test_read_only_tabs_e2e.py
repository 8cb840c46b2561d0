"""Every tab, as a user who may only look sees it (issue 14, "Who gets in"): the page opens, says
why it is read-only, offers no button that changes anything, and every change it could post is
refused with the reason, whatever the tab. The live service and both sandboxes over HTTP."""

from __future__ import annotations

import re

import pytest
import requests
from django.urls import get_resolver

from portals.models import SettingsChange
from portals.tabs import tabs_for
from sync.models import SyncSettings
from tests.flows import HUB, browser_connect_fortnox, browser_install, csrf_token, visible_text
from tests.portals.test_access_e2e import SALES_ID, mint_link

pytestmark = pytest.mark.django_db(transaction=True)

READ_ONLY = "You can see these settings but not change them."
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


@pytest.fixture
def sales_browser(world):
    with requests.Session() as admin:
        assert browser_install(world, admin).status_code == 200
        assert browser_connect_fortnox(world, admin).status_code == 200
    sales = requests.Session()
    page = sales.get(mint_link(world, SALES_ID)["url"], timeout=10)
    assert page.url == f"{world.app}/settings/{HUB}/", page.text
    yield sales
    sales.close()


def _tab_urls(world) -> dict[str, str]:
    """The tabs the navigation shows (a tab another issue builds, Usage, shows once it exists)."""
    return {tab["key"]: world.app + tab["url"] for tab in tabs_for(HUB)}


def _settings_post_urls(world) -> list[str]:
    """Every URL of the settings page that takes a POST, with made-up ids where it needs them."""
    urls = []
    for pattern in get_resolver().url_patterns:
        for sub in getattr(pattern, "url_patterns", [pattern]):
            route = str(sub.pattern)
            if not route.startswith("settings/<int:hub_id>/"):
                continue
            path = re.sub(r"<int:hub_id>", str(HUB), route)
            path = re.sub(r"<int:\w+>", "1", path)
            path = re.sub(r"<str:\w+>", "default", path)
            urls.append(f"{world.app}/{path}")
    return urls


def test_every_tab_opens_read_only_without_a_button_that_changes_anything(world, sales_browser):
    tabs = _tab_urls(world)
    assert {"overview", "sync", "products", "customers", "mappings", "general"} <= set(tabs)
    assert {"dry_run", "runs", "history", "users"} <= set(tabs)
    for key, url in tabs.items():
        page = sales_browser.get(url, timeout=30)
        assert page.status_code == 200, (key, page.status_code)
        assert READ_ONLY in visible_text(page.text), key
        for form in POST_FORM.findall(page.text):
            if 'name="language"' in form:  # the language switch changes only this browser
                continue
            # A button may only submit another (GET) form, such as the article search.
            buttons = re.findall(r"<button\b[^>]*>", form)
            assert all(" form=" in button for button in buttons), (key, buttons)


def test_every_change_a_read_only_user_posts_is_refused_with_the_reason(world, sales_browser):
    token = csrf_token(sales_browser.get(f"{world.app}/settings/{HUB}/", timeout=10).text)
    settings_before = list(SyncSettings.objects.values())
    posts = _settings_post_urls(world)
    assert len(posts) >= 10, posts

    refused = []
    for url in posts:
        answer = sales_browser.post(
            url,
            data={
                "csrfmiddlewaretoken": token,
                "auto_create": "on",
                "language": "en",
                "trigger_stage_ids": "closedwon",
                "document_type": "invoice",
                "email": "sales@sandbox.example",
            },
            allow_redirects=False,
            timeout=10,
        )
        if answer.status_code == 405:  # a page that takes no POST at all (require_GET)
            continue
        assert answer.status_code == 403, (url, answer.status_code)
        refused.append(url)
        text = visible_text(answer.text)
        assert "You can view these settings but not change them" in text, url
        assert "super admins of this HubSpot account" in text, url

    assert len(refused) >= 10, refused
    assert list(SyncSettings.objects.values()) == settings_before
    assert not SettingsChange.objects.exclude(section="connection").exists()
