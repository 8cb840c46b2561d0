"""Read models of a portal's connections, for the settings page and support."""

from __future__ import annotations

from typing import Any

from integrations.fortnox.oauth import FORTNOX_SCOPES
from integrations.models import FortnoxConnection, HubSpotInstallation


def connection_status_get(installation: HubSpotInstallation) -> dict[str, Any]:
    connection = installation.active_fortnox_connection()
    status: dict[str, Any] = {
        "hub_id": installation.hub_id,
        "installation": installation.status,
        "installation_label": installation.get_status_display(),
        "hubspot_scopes": installation.scopes,
        "hubspot_last_refresh": installation.last_refreshed_at,
        "problem": installation.last_problem,
        "fix": installation.last_problem_fix,
        "fortnox": None,
    }
    if connection is None:
        last = installation.fortnox_connections.order_by("-disconnected_at").first()
        status["fortnox"] = {
            "status": "not_connected",
            "label": "Not connected",
            "previous_company": last.company_name if last else "",
        }
        if not status["problem"]:
            status["problem"] = "Fortnox is not connected."
            status["fix"] = "Connect Fortnox below to start creating invoices and orders."
        return status
    missing = sorted(set(FORTNOX_SCOPES) - set(connection.scopes))
    status["fortnox"] = {
        "status": connection.status,
        "label": connection.get_status_display(),
        "company_name": connection.company_name,
        "organisation_number": connection.organisation_number,
        "scopes": connection.scopes,
        "missing_scopes": missing,
        "last_refresh": connection.last_refreshed_at,
        "connected_at": connection.connected_at,
        "connected_by": connection.connected_by_email,
    }
    if not status["problem"] and connection.last_problem:
        status["problem"], status["fix"] = connection.last_problem, connection.last_problem_fix
    if not status["problem"] and missing:
        status["problem"] = "Fortnox did not grant: " + ", ".join(missing) + "."
        status["fix"] = "Reconnect Fortnox and approve every permission asked for."
    if connection.status == FortnoxConnection.Status.NEEDS_RECONNECT and not status["fix"]:
        status["fix"] = "Reconnect Fortnox."
    return status
