"""Drive the service and both sandboxes the way HubSpot, Fortnox and a user's browser do.

Used by the end-to-end tests, `make demo`, `make run`'s seeding and the benchmark: a World
names the service and the two simulators; the helpers walk a browser through the install and
the Fortnox consent over real HTTP, and a Portal makes deals and reads notes and documents.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from typing import Any

import requests

HUB = 9000001  # the sandbox's default portal
OTHER_HUB = 9000002
FORTNOX_COMPANY = "1"  # the Fortnox sandbox's default company (all licences)
FORTNOX_NO_ORDER_COMPANY = "2"  # a company without the order licence
PRIMARY_DEAL_TO_COMPANY = 5  # HubSpot's association type ids (hubspot-api.md §6)
DEAL_TO_COMPANY = 341


@dataclass
class World:
    app: str  # the service (a live server in this process)
    hubspot: str  # the HubSpot sandbox
    fortnox: str  # the Fortnox sandbox

    def hubspot_admin(self, method: str, path: str, **kwargs: Any) -> Any:
        return _admin(self.hubspot, method, path, **kwargs)

    def fortnox_admin(self, method: str, path: str, **kwargs: Any) -> Any:
        return _admin(self.fortnox, method, path, **kwargs)

    def app_configure(self) -> None:
        """Tell the HubSpot sandbox where the app is: OAuth redirect, webhooks, app card."""
        self.hubspot_admin(
            "POST",
            "/_sandbox/app",
            json={
                "redirect_uri": f"{self.app}/hubspot/oauth/callback",
                "webhook_url": f"{self.app}/hubspot/webhooks",
                "card_fetch_base": self.app,
            },
        )

    def fortnox_token_calls(self) -> dict[str, int]:
        return self.fortnox_admin("GET", "/_sandbox/tokens/stats")["token_calls"]


class DriveError(AssertionError):
    """Something did not go as a user would expect; the message says what."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise DriveError(message)


def _admin(base: str, method: str, path: str, **kwargs: Any) -> Any:
    response = requests.request(method, f"{base}{path}", timeout=60, **kwargs)
    _check(response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def browser_install(world: World, browser: requests.Session, hub: int = HUB) -> requests.Response:
    """A user installs the app from our install link and approves it in portal `hub`."""
    start = browser.get(f"{world.app}/hubspot/install", allow_redirects=False, timeout=10)
    _check(start.status_code == 302, f"/hubspot/install answered {start.status_code}")
    authorize = start.headers["Location"]
    _check(authorize.startswith(f"{world.hubspot}/oauth/authorize?"), f"install → {authorize}")
    return browser.get(f"{authorize}&sandbox_portal={hub}", timeout=30)


def browser_connect_fortnox(
    world: World, browser: requests.Session, hub: int = HUB, company: str = FORTNOX_COMPANY
) -> requests.Response:
    """The signed-in user presses Connect Fortnox and approves company `company`."""
    start = browser.get(
        f"{world.app}/fortnox/connect", params={"portal": hub}, allow_redirects=False, timeout=10
    )
    _check(start.status_code == 302, f"/fortnox/connect answered {start.status_code}")
    consent = start.headers["Location"]
    _check(consent.startswith(f"{world.fortnox}/oauth-v1/auth?"), f"connect → {consent}")
    return browser.get(f"{consent}&sandbox_company={company}", timeout=30)


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    _check(match is not None, "the page has no form with a CSRF token")
    return match.group(1)


def visible_text(html: str) -> str:
    """The page's text as a user reads it: tags dropped, whitespace collapsed."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text).strip()


# -- a portal with the app installed, Fortnox connected and a pipeline added ------------------
@dataclass
class Portal:
    world: World
    hub: int = HUB
    company: str = FORTNOX_COMPANY
    _fortnox_token: str = ""

    # HubSpot side: records made through the sandbox, as a salesperson would in HubSpot.
    def create(self, object_type: str, properties: dict[str, Any], associations=()) -> str:
        """`associations`: (to_type, to_id) pairs, or (to_type, to_id, type_id) to choose the
        association type (e.g. PRIMARY_DEAL_TO_COMPANY); without one, HubSpot's default (the
        first company of a deal becomes its primary)."""
        links = []
        for to_type, to_id, *type_id in associations:
            link: dict[str, Any] = {"to_type": to_type, "to_id": str(to_id)}
            if type_id:
                link["type_id"] = type_id[0]
            links.append(link)
        record = self.world.hubspot_admin(
            "POST",
            f"/_sandbox/portals/{self.hub}/objects/{object_type}",
            json={"properties": properties, "associations": links},
        )
        return str(record["id"])

    def record(self, object_type: str, object_id: str) -> dict[str, Any]:
        return self.world.hubspot_admin(
            "GET", f"/_sandbox/portals/{self.hub}/objects/{object_type}/{object_id}"
        )

    def deal(
        self,
        lines: list[dict[str, Any]],
        *,
        company: str | None = None,
        contact: str | None = None,
        currency: str = "SEK",
        name: str = "Test deal",
        stage: str = "appointmentscheduled",
        extra: dict[str, Any] | None = None,
        companies: list[str] | None = None,
        primary_company: str | None = None,
    ) -> str:
        """A deal in the default pipeline with line items; each line is line item properties,
        plus an optional `product` (properties of a product to create and link). Without a
        company or contact, a new company "Kund AB" becomes the customer. `companies` associates
        several, `primary_company` (one of them, or None: no primary) as the primary."""
        if company is None and contact is None and not companies:
            company = self.create("companies", {"name": "Kund AB"})
        associations: list[tuple] = []
        if company:
            associations.append(("companies", company))
        for other in companies or []:
            kind = PRIMARY_DEAL_TO_COMPANY if other == primary_company else DEAL_TO_COMPANY
            associations.append(("companies", other, kind))
        if contact:
            associations.append(("contacts", contact))
        deal_id = self.create(
            "deals",
            {
                "dealname": name,
                "pipeline": "default",
                "dealstage": stage,
                "deal_currency_code": currency,
                **(extra or {}),
            },
            associations,
        )
        for line in lines:
            line = dict(line)
            product = line.pop("product", None)
            if product is not None:
                line["hs_product_id"] = self.create("products", product)
            self.create("line_items", line, [("deals", deal_id)])
        return deal_id

    def move(self, deal_id: str, stage: str = "closedwon") -> None:
        """The salesperson drags the deal to `stage`; HubSpot sends the signed webhook."""
        self.world.hubspot_admin(
            "POST", f"/_sandbox/portals/{self.hub}/deals/{deal_id}/stage", json={"stage": stage}
        )

    def notes(self, deal_id: str, object_type: str = "deals") -> list[dict[str, Any]]:
        """The notes on a deal (or, with `object_type`, on a company or contact)."""
        record = self.record(object_type, deal_id)
        ids = [str(a) for a in (record.get("associations") or {}).get("notes", [])]
        return [self.record("notes", note_id) for note_id in ids]

    # Fortnox side: the company's data, as its bookkeeper sees it.
    def fortnox_api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self._fortnox_token:
            # Its own client, so the bookkeeper's calls do not use up the app's rate limit.
            self.world.fortnox_admin(
                "POST",
                "/_sandbox/clients",
                json={"client_id": "sandbox-bookkeeper", "client_secret": "sandbox-bookkeeper"},
            )
            pair = self.world.fortnox_admin(
                "POST",
                "/_sandbox/tokens",
                json={"company": self.company, "client_id": "sandbox-bookkeeper"},
            )
            self._fortnox_token = pair["access_token"]
        return requests.request(
            method,
            f"{self.world.fortnox}/3/{path.lstrip('/')}",
            headers={"Authorization": f"Bearer {self._fortnox_token}"},
            timeout=30,
            **kwargs,
        )

    def fortnox_record(self, resource: str, number: str) -> dict[str, Any]:
        return self.world.fortnox_admin(
            "GET", f"/_sandbox/records/{self.company}/{resource}/{number}"
        )

    def fortnox_records(self, resource: str) -> list[dict[str, Any]]:
        return self.world.fortnox_admin("GET", f"/_sandbox/records/{self.company}/{resource}")
