"""Fortnox access tokens: proactive refresh, refresh on 401, one refresh at a time.

Fortnox refresh tokens are single-use (fortnox-api.md §1.4): two workers refreshing with the same
refresh token would leave one of them holding a dead token and, worse, might kill the
connection. So a refresh takes a row lock on the connection (SELECT ... FOR UPDATE, held across
the call to Fortnox), re-reads the token once it has the lock (another worker may have
refreshed meanwhile), and saves the new refresh token in the same transaction.
"""

from __future__ import annotations

import logging

from django.db import transaction

from integrations.fortnox import oauth
from integrations.fortnox.errors import FortnoxNeedsReconnect
from integrations.models import FortnoxConnection

logger = logging.getLogger(__name__)

RECONNECT_FIX = "Reconnect Fortnox in the app's settings (Fortnox > Connect)."


def _not_usable(connection: FortnoxConnection) -> FortnoxNeedsReconnect:
    if connection.status == FortnoxConnection.Status.DISCONNECTED:
        return FortnoxNeedsReconnect(
            "Fortnox is not connected to this HubSpot portal.",
            fix="Connect Fortnox in the app's settings.",
        )
    return FortnoxNeedsReconnect(
        connection.last_problem or "Fortnox no longer accepts the app's authorisation.",
        fix=connection.last_problem_fix or RECONNECT_FIX,
    )


def fortnox_access_token_get(connection_id: int) -> str:
    """A token valid for at least a few more minutes, refreshing it first when needed."""
    connection = FortnoxConnection.objects.get(pk=connection_id)
    if not connection.is_usable:
        raise _not_usable(connection)
    if connection.access_token_is_fresh():
        return connection.access_token
    return fortnox_access_token_refresh(connection_id, stale_token=connection.access_token)


def fortnox_access_token_refresh(connection_id: int, *, stale_token: str | None) -> str:
    """Refresh unless another worker already replaced `stale_token`; returns the token to use."""
    refused: FortnoxNeedsReconnect | None = None
    with transaction.atomic():
        connection = FortnoxConnection.objects.select_for_update().get(pk=connection_id)
        if not connection.is_usable:
            raise _not_usable(connection)
        if connection.access_token != stale_token and connection.access_token_is_fresh():
            return connection.access_token  # someone refreshed while we waited for the lock
        try:
            token = oauth.refresh(connection.refresh_token)
        except FortnoxNeedsReconnect as exc:
            connection.status = FortnoxConnection.Status.NEEDS_RECONNECT
            connection.record_problem(
                "Fortnox refused to renew the app's access (the authorisation was revoked, "
                "expired after 45 days unused, or was used elsewhere).",
                RECONNECT_FIX,
            )
            connection.save(
                update_fields=[
                    "status",
                    "last_problem",
                    "last_problem_fix",
                    "last_problem_at",
                    "updated_at",
                ]
            )
            refused = exc
        else:
            connection.store_tokens(
                token["access_token"],
                token.get("refresh_token"),
                token.get("expires_in", 3600),
                str(token.get("scope", "")).split() or None,
            )
            connection.clear_problem()
            connection.save()
            logger.info("fortnox token refreshed", extra={"connection": connection_id})
            return connection.access_token
    # Raised after the transaction committed, so the "needs reconnect" status is kept.
    logger.warning(
        "fortnox refresh refused", extra={"connection": connection_id, "code": refused.code}
    )
    raise _not_usable(FortnoxConnection.objects.get(pk=connection_id)) from refused
