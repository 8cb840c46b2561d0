"""Install, sign-in, connect and disconnect: the business rules of a portal's connections."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from integrations.fortnox import oauth as fortnox_oauth
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.connections import company_details_read, tokens_forget
from integrations.fortnox.tokens import token_store
from integrations.hubspot import oauth as hubspot_oauth
from integrations.hubspot.client import HubSpotClient, hubspot_token_info
from integrations.hubspot.errors import HubSpotError
from integrations.hubspot.properties import hubspot_properties_ensure
from integrations.hubspot.scopes import required_scopes
from integrations.models import FortnoxConnection, HubSpotInstallation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HubSpotUser:
    hub_id: int
    user_id: int | None
    email: str


def hubspot_install_complete(code: str) -> tuple[HubSpotInstallation, HubSpotUser, bool]:
    """Exchange the install code; create or update the portal's installation.

    Returns the installation, the HubSpot user HubSpot vouched for, and whether the app's own
    properties still have to be created (first install).
    """
    token = hubspot_oauth.exchange_code(code)
    info = hubspot_token_info(token["access_token"])
    hub_id = int(info["hub_id"])
    granted = list(info.get("scopes") or [])
    missing = sorted(set(required_scopes()) - set(granted))
    if missing:
        raise HubSpotError(
            "HubSpot granted the app fewer permissions than it needs: " + ", ".join(missing) + ".",
            fix="Install the app again and approve every permission it asks for.",
        )
    user = HubSpotUser(hub_id=hub_id, user_id=info.get("user_id"), email=info.get("user") or "")
    with transaction.atomic():
        installation, created = HubSpotInstallation.objects.select_for_update().get_or_create(
            hub_id=hub_id,
            defaults={"installed_by_user_id": user.user_id, "installed_by_email": user.email},
        )
        if not installation.is_active:  # a reinstall after an uninstall
            installation.status = HubSpotInstallation.Status.ACTIVE
            installation.uninstalled_at = None
            installation.installed_at = timezone.now()
            installation.installed_by_user_id = user.user_id
            installation.installed_by_email = user.email
        installation.hub_domain = info.get("hub_domain") or installation.hub_domain
        installation.store_tokens(
            token["access_token"],
            token.get("refresh_token"),
            token.get("expires_in", 1800),
            granted,
        )
        installation.clear_problem()
        installation.save()
    logger.info(
        "hubspot installed" if created else "hubspot authorised again", extra={"portal": hub_id}
    )
    return installation, user, installation.properties_created_at is None


def hubspot_properties_create(installation_id: int) -> None:
    """Create the app's own properties in the portal (safe to run again)."""
    installation = HubSpotInstallation.objects.get(pk=installation_id)
    created = hubspot_properties_ensure(HubSpotClient(installation))
    HubSpotInstallation.objects.filter(pk=installation_id).update(
        properties_created_at=timezone.now()
    )
    logger.info(
        "hubspot properties ensured",
        extra={"portal": installation.hub_id, "properties_created": created},
    )


def fortnox_connect_complete(
    installation: HubSpotInstallation, code: str, user: HubSpotUser
) -> FortnoxConnection:
    """Exchange Fortnox's code and make it the portal's one Fortnox connection."""
    token = fortnox_oauth.exchange_code(code)
    previous = installation.active_fortnox_connection()
    if previous is not None:
        # Exactly one company per portal: the old company's tokens are revoked first.
        fortnox_disconnect(previous, reason="replaced by a new connection")
    with transaction.atomic():
        HubSpotInstallation.objects.select_for_update().get(pk=installation.pk)
        connection = FortnoxConnection(
            installation=installation,
            connected_by_user_id=user.user_id,
            connected_by_email=user.email,
        )
        token_store(connection, token)
        connection.save()
    company_details_read(connection, FortnoxClient(connection))
    logger.info(
        "fortnox connected", extra={"portal": installation.hub_id, "connection": connection.pk}
    )
    return connection


def fortnox_disconnect(connection: FortnoxConnection, *, reason: str = "disconnected") -> bool:
    """Revoke and forget the tokens; the row stays as history. Returns whether Fortnox confirmed
    the revocation (the tokens are forgotten either way)."""
    revoked = tokens_forget(connection, reason=reason, fix="Connect Fortnox again to resume.")
    logger.info(
        "fortnox disconnected",
        extra={"connection": connection.pk, "revoked": revoked, "reason": reason},
    )
    return revoked
