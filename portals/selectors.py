"""Read models of a portal's connections, for the settings page and support."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from integrations.fortnox.oauth import FORTNOX_SCOPES
from integrations.hubspot import crm
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.scopes import required_scopes
from integrations.models import FortnoxConnection, HubSpotInstallation
from portals.permissions_words import (
    FORTNOX_LICENCE_NEEDS,
    fortnox_scopes_in_words,
    hubspot_scopes_in_words,
)


def connection_status_get(installation: HubSpotInstallation) -> dict[str, Any]:
    connection = installation.active_fortnox_connection()
    hubspot_missing = sorted(set(required_scopes()) - set(installation.scopes))
    status: dict[str, Any] = {
        "hub_id": installation.hub_id,
        "installation": installation.status,
        "installation_label": _(installation.get_status_display()),
        "hubspot_scopes": installation.scopes,
        "hubspot_scope_words": hubspot_scopes_in_words(installation.scopes),
        "hubspot_missing_scope_words": hubspot_scopes_in_words(hubspot_missing),
        "hubspot_last_refresh": installation.last_refreshed_at,
        "problem": installation.last_problem,
        "fix": installation.last_problem_fix,
        "fortnox": None,
        "licence_needs": [str(words) for _kind, words in FORTNOX_LICENCE_NEEDS],
    }
    if not installation.is_active and not status["problem"]:
        status["problem"] = _("The app is not installed in this HubSpot account.")
        status["fix"] = _("Install the app again from HubSpot.")
    if connection is None:
        last = installation.fortnox_connections.order_by("-disconnected_at").first()
        status["fortnox"] = {
            "status": "not_connected",
            "label": _("Not connected"),
            "previous_company": last.company_name if last else "",
        }
        if not status["problem"]:
            status["problem"] = _("Fortnox is not connected.")
            status["fix"] = _("Connect Fortnox below to start creating invoices and orders.")
        return status
    missing = sorted(set(FORTNOX_SCOPES) - set(connection.scopes))
    status["fortnox"] = {
        "status": connection.status,
        "label": _(connection.get_status_display()),
        "company_name": connection.company_name,
        "organisation_number": connection.organisation_number,
        "scopes": connection.scopes,
        "scope_words": fortnox_scopes_in_words(connection.scopes),
        "missing_scopes": missing,
        "missing_scope_words": fortnox_scopes_in_words(missing),
        "last_refresh": connection.last_refreshed_at,
        "connected_at": connection.connected_at,
        "connected_by": connection.connected_by_email,
    }
    if not status["problem"] and connection.last_problem:
        status["problem"], status["fix"] = connection.last_problem, connection.last_problem_fix
    if not status["problem"] and missing:
        status["problem"] = _("Fortnox did not grant: %(permissions)s.") % {
            "permissions": ", ".join(status["fortnox"]["missing_scope_words"])
        }
        status["fix"] = _("Reconnect Fortnox and approve every permission asked for.")
    if connection.status == FortnoxConnection.Status.NEEDS_RECONNECT and not status["fix"]:
        status["fix"] = _("Reconnect Fortnox.")
    return status


def deal_pipelines_read(installation: HubSpotInstallation) -> list[dict[str, Any]]:
    """The portal's deal pipelines and stages, read live from HubSpot (raises IntegrationError)."""
    return crm.deal_pipelines(HubSpotClient(installation))


def stage_is_closed_won(stage: dict[str, Any]) -> bool:
    """A won stage. HubSpot's pipelines guide: a deal stage's metadata `probability` is "between
    0.0 and 1.0, 0.0 being Closed Lost and 1.0 being Closed Won"
    (https://developers.hubspot.com/docs/api/crm/pipelines). The metadata values are strings
    ("1.0"); a stage that says `isClosed` "false" is open whatever its probability."""
    metadata = stage.get("metadata") or {}
    if str(metadata.get("isClosed", "true")).lower() == "false":
        return False
    try:
        return float(metadata.get("probability", "")) == 1.0
    except ValueError:
        return False
