"""The settings page's tabs. Each tab is its own page (its own view and template under
templates/portals/settings/); a tab shows in the navigation once its URL exists."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (key, URL name, label), in the order the navigation shows them.
TABS = (
    ("overview", "portal-settings", _("Overview")),
    ("sync", "settings-sync", _("Invoices & orders")),
    ("products", "settings-products", _("Products")),
    ("customers", "settings-customers", _("Customers")),
    ("mappings", "settings-mappings", _("Field mappings")),
    ("general", "settings-general", _("General")),
    ("dry_run", "settings-dry-run", _("Dry run")),
    ("bulk", "settings-bulk", _("Bulk sync")),
    ("runs", "settings-runs", _("Runs")),
    ("usage", "settings-usage", _("Usage")),
    ("history", "settings-history", _("History")),
    ("users", "settings-users", _("Users")),
)


def tabs_for(hub_id: int) -> list[dict[str, Any]]:
    tabs = []
    for key, url_name, label in TABS:
        try:
            url = reverse(url_name, kwargs={"hub_id": hub_id})
        except NoReverseMatch:
            continue
        tabs.append({"key": key, "url": url, "label": label})
    return tabs


def settings_render(
    request: HttpRequest,
    tab: str,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """Render a tab inside the settings layout (templates/portals/settings/base.html)."""
    installation = request.installation
    return render(
        request,
        template,
        {
            "installation": installation,
            "access": request.access,
            "tabs": tabs_for(installation.hub_id),
            "active_tab": tab,
            **(context or {}),
        },
        status=status,
    )
