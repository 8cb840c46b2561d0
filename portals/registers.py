"""What the settings page offers to choose from, read live from the vendors: the connected Fortnox
company's articles, units and sales accounts, and the portal's HubSpot properties.

Selectors only: nothing here writes to HubSpot or Fortnox. Each read goes through the vendor's
adapter (pacing, token refresh, errors in plain words); callers show an IntegrationError's
message and fix instead of the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.errors import FortnoxNotFound
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.properties import object_properties_list
from integrations.models import HubSpotInstallation

#: The chart of accounts needs this Fortnox scope (fortnox-api.md §1.8); the app does not ask
#: for it by default, so without it the sales account is typed and checked for its form only.
ACCOUNTS_SCOPE = "bookkeeping"
#: Sales accounts are class 3 of the BAS chart Swedish companies keep (3000–3999).
SALES_ACCOUNTS = range(3000, 4000)


@dataclass(frozen=True)
class Article:
    number: str
    description: str
    unit: str = ""

    @property
    def label(self) -> str:
        return f"{self.number} · {self.description}" if self.description else self.number


def _article(raw: dict[str, Any]) -> Article:
    return Article(
        number=str(raw.get("ArticleNumber") or ""),
        description=str(raw.get("Description") or ""),
        unit=str(raw.get("Unit") or ""),
    )


def fortnox_client_get(installation: HubSpotInstallation) -> FortnoxClient | None:
    connection = installation.active_fortnox_connection()
    return FortnoxClient(connection) if connection is not None else None


def fortnox_articles_matching(client: FortnoxClient, text: str, limit: int = 20) -> list[Article]:
    """Active articles whose number or description contains `text`."""
    text = text.strip()
    if not text:
        return []
    return [_article(raw) for raw in client.articles_matching(text, limit=limit)]


def fortnox_article_get(client: FortnoxClient, number: str) -> tuple[Article | None, bool]:
    """The article with exactly this number and whether it is active; (None, False) when the
    company has none."""
    try:
        raw = client.article_get(number)
    except FortnoxNotFound:
        return None, False
    return _article(raw), bool(raw.get("Active", True))


def fortnox_units_list(client: FortnoxClient) -> list[dict[str, str]]:
    return [
        {"code": str(unit.get("Code") or ""), "description": str(unit.get("Description") or "")}
        for unit in client.units()
        if unit.get("Code")
    ]


def fortnox_sales_accounts_list(
    installation: HubSpotInstallation, client: FortnoxClient
) -> list[dict[str, str]] | None:
    """The company's active sales accounts (3000–3999), or None when the connection was not
    granted the scope to read the chart of accounts."""
    connection = installation.active_fortnox_connection()
    if connection is None or ACCOUNTS_SCOPE not in (connection.scopes or []):
        return None
    return [
        {"number": str(account["Number"]), "description": str(account.get("Description") or "")}
        for account in client.accounts(sortby="number")
        if int(account.get("Number") or 0) in SALES_ACCOUNTS and account.get("Active", True)
    ]


def hubspot_properties_list(
    installation: HubSpotInstallation, object_types: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """The portal's properties per object type ("companies", "contacts", "deals",
    "line_items"): one HubSpot call per type."""
    client = HubSpotClient(installation)
    return {
        object_type: object_properties_list(client, object_type) for object_type in object_types
    }
