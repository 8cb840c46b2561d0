"""What the settings page tests share: a signed-in browser, and reading and posting its pages."""

from __future__ import annotations

import re

import requests

from tests.flows import HUB, browser_install, csrf_token, visible_text


def signed_in(world, browser: requests.Session, hub: int = HUB) -> None:
    page = browser_install(world, browser, hub)
    assert page.status_code == 200, page.text


def open_page(world, browser: requests.Session, path: str, hub: int = HUB) -> requests.Response:
    """GET /settings/<hub>/<path>; the answer's text is checked by the caller."""
    return browser.get(f"{world.app}/settings/{hub}/{path}", timeout=30)


def post_form(
    world, browser: requests.Session, page: requests.Response, action: str, data: dict
) -> requests.Response:
    """Submit a form of `page` to `action` (a path), as the browser would: with its CSRF token,
    following the redirect to the page that shows the result."""
    return browser.post(
        f"{world.app}{action}",
        data={"csrfmiddlewaretoken": csrf_token(page.text), **data},
        headers={"Referer": page.url},
        timeout=30,
    )


def section_text(html: str, section_id: str) -> str:
    """The visible text of <section id="section_id">…</section>."""
    match = re.search(
        rf'<section [^>]*\bid="{re.escape(section_id)}"[^>]*>(.*?)</section>', html, re.S
    )
    assert match, f"the page has no section {section_id}"
    return visible_text(match.group(1))


def checked(html: str, name: str) -> list[str]:
    """The values of the checked inputs named `name` (checkboxes and radios)."""
    values = []
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and " checked" in tag:
            value = re.search(r'value="([^"]*)"', tag)
            values.append(value.group(1) if value else "on")
    return values
