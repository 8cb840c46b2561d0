"""The vendor's own Fortnox company (issue 17 ★): connected once by staff from Django admin,
through the app's usual OAuth (integrations/fortnox/oauth.py) and the same adapter. Its tokens
are refreshed through the shared locked, single-use refresh (integrations/tokens.py) with a
source of its own, so a vendor token is never read from, or a problem written to, a portal's
connection."""

from __future__ import annotations

import logging

from billing.models import VendorFortnoxConnection
from integrations.fortnox import oauth as fortnox_oauth
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.connections import company_details_read, tokens_forget
from integrations.fortnox.errors import FortnoxNeedsReconnect
from integrations.fortnox.tokens import fortnox_token_source, token_store

logger = logging.getLogger(__name__)

VENDOR_RECONNECT_FIX = (
    "Connect the vendor's Fortnox company again in Django admin (Vendor's Fortnox connections "
    "> Connect the vendor's Fortnox company)."
)


def _not_usable(connection: VendorFortnoxConnection) -> FortnoxNeedsReconnect:
    if connection.status == VendorFortnoxConnection.Status.DISCONNECTED:
        return FortnoxNeedsReconnect(
            "The vendor's Fortnox company is not connected.", fix=VENDOR_RECONNECT_FIX
        )
    return FortnoxNeedsReconnect(
        connection.last_problem or "Fortnox no longer accepts the app's authorisation.",
        fix=connection.last_problem_fix or VENDOR_RECONNECT_FIX,
    )


VENDOR_FORTNOX_TOKENS = fortnox_token_source(
    VendorFortnoxConnection,
    not_usable=_not_usable,
    reconnect_fix=VENDOR_RECONNECT_FIX,
    log_key="vendor_connection",
)


def vendor_fortnox_client(connection: VendorFortnoxConnection) -> FortnoxClient:
    return FortnoxClient(connection, token_source=VENDOR_FORTNOX_TOKENS)


def vendor_connection_get() -> VendorFortnoxConnection | None:
    """The live vendor connection (connected or needing a reconnect), if any."""
    return (
        VendorFortnoxConnection.objects.exclude(status=VendorFortnoxConnection.Status.DISCONNECTED)
        .order_by("-connected_at")
        .first()
    )


def vendor_fortnox_connect_complete(code: str, *, staff_username: str) -> VendorFortnoxConnection:
    """Exchange Fortnox's code and make it the vendor's one company; an earlier live vendor
    connection is disconnected first (its tokens revoked)."""
    token = fortnox_oauth.exchange_code(code)
    previous = vendor_connection_get()
    if previous is not None:
        vendor_fortnox_disconnect(previous, reason="replaced by a new connection")
    connection = VendorFortnoxConnection(connected_by=staff_username)
    token_store(connection, token)
    connection.save()
    company_details_read(connection, vendor_fortnox_client(connection))
    logger.info(
        "vendor fortnox connected",
        extra={"vendor_connection": connection.pk, "staff": staff_username},
    )
    return connection


def vendor_fortnox_disconnect(
    connection: VendorFortnoxConnection, *, reason: str = "disconnected"
) -> bool:
    """Revoke and forget the tokens; the row stays as history. Returns whether Fortnox
    confirmed the revocation (the tokens are forgotten either way)."""
    revoked = tokens_forget(connection, reason=reason, fix=VENDOR_RECONNECT_FIX)
    logger.info(
        "vendor fortnox disconnected",
        extra={"vendor_connection": connection.pk, "revoked": revoked, "reason": reason},
    )
    return revoked
