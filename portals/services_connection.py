"""Connect, reconnect and disconnect Fortnox from the settings page, each recorded in the
portal's settings history (who, when, which company before → after)."""

from __future__ import annotations

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from integrations.models import FortnoxConnection, HubSpotInstallation
from portals.access import PortalAccess
from portals.history import settings_changes_record
from portals.services import HubSpotUser, fortnox_connect_complete, fortnox_disconnect

CONNECTION_SECTION = "connection"


def _connection_shown(connection: FortnoxConnection | None) -> str:
    """The connection as the History tab shows it. The time it was made keeps a reconnect to the
    same company distinct from the connection it replaced."""
    if connection is None or connection.status == FortnoxConnection.Status.DISCONNECTED:
        return _("Not connected")
    company = connection.company_name or _("a Fortnox company")
    if connection.organisation_number:
        company = f"{company} ({connection.organisation_number})"
    since = formats.date_format(timezone.localtime(connection.connected_at), "Y-m-d H:i:s")
    return _("%(company)s, connected %(since)s") % {"company": company, "since": since}


def fortnox_connect_recorded(
    installation: HubSpotInstallation, code: str, access: PortalAccess
) -> FortnoxConnection:
    """Exchange Fortnox's code (portals.services) and record the change. The connect itself
    talks to Fortnox between its own transactions, so the record follows it: a connect that
    failed raised before anything was recorded."""
    previous = installation.active_fortnox_connection()
    before = _connection_shown(previous)
    connection = fortnox_connect_complete(
        installation,
        code,
        HubSpotUser(hub_id=installation.hub_id, user_id=access.user_id, email=access.email),
    )
    label = _("Fortnox connection")
    if previous is not None and previous.company_name == connection.company_name:
        label = _("Fortnox connection (reconnected)")
    # Always recorded: a reconnect within the second reads the same before and after.
    settings_changes_record(
        installation,
        access,
        CONNECTION_SECTION,
        [(label, before, _connection_shown(connection))],
        even_unchanged=True,
    )
    return connection


def fortnox_disconnect_recorded(installation: HubSpotInstallation, access: PortalAccess) -> bool:
    """Disconnect the portal's Fortnox company, if any, and record it. Returns whether there was
    a connection to disconnect."""
    connection = installation.active_fortnox_connection()
    if connection is None:
        return False
    before = _connection_shown(connection)
    fortnox_disconnect(connection, reason=f"by {access.actor or 'a portal admin'}")
    settings_changes_record(
        installation,
        access,
        CONNECTION_SECTION,
        [(_("Fortnox connection"), before, _("Not connected"))],
    )
    return True
