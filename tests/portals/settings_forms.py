"""A browser's view of a settings tab's form: the values it would submit as shown (checked
radios and boxes, selected options, text inputs), so a test changes only what a user changes."""

from __future__ import annotations

from html.parser import HTMLParser

import requests

from tests.flows import HUB, browser_install, csrf_token


class _FormReader(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.select = form_id, False, None
        self.values: dict[str, str] = {}
        self.options: dict[str, list[tuple[str, str]]] = {}
        self._option: tuple[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or a.get("form"):
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "on")
            elif kind != "submit" and a["name"] != "csrfmiddlewaretoken":
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a.get("name")
            self.options[self.select] = []
            self.values.setdefault(self.select, "")
        elif tag == "option" and self.select:
            self._option, self._text = (a.get("value", ""), "selected" in a), ""

    def handle_data(self, data):
        if self._option is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "option" and self._option is not None and self.select:
            value, selected = self._option
            self.options[self.select].append((value, " ".join(self._text.split())))
            if selected:
                self.values[self.select] = value
            self._option = None
        elif tag == "select":
            self.select = None


def form_read(html: str, form_id: str) -> tuple[dict[str, str], dict[str, list[tuple[str, str]]]]:
    """(values as submitted, each select's (value, text) options)."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.values, reader.options


def signed_in(world, hub: int = HUB) -> requests.Session:
    """A browser signed in to the portal's settings through HubSpot's OAuth."""
    browser = requests.Session()
    assert browser_install(world, browser, hub).status_code == 200
    return browser


def form_submit(browser: requests.Session, url: str, form_id: str, **changes: str):
    """Open the tab, change what a user changes, submit the form; the answer (redirects
    followed)."""
    page = browser.get(url, timeout=30)
    assert page.status_code == 200, page.text
    values, _options = form_read(page.text, form_id)
    values.update(changes)
    values = {k: v for k, v in values.items() if v is not None}
    values["csrfmiddlewaretoken"] = csrf_token(page.text)
    return browser.post(url, data=values, headers={"Referer": url}, timeout=60)
