"""Fortnox access tokens through the shared locked refresh (integrations/tokens.py).

Fortnox refresh tokens are single-use (fortnox-api.md §1.4): the refresh runs under the
connection's row lock and the new refresh token is saved in the same transaction. A refused
refresh leaves the connection "needs reconnect", which only the user can fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from integrations import tokens
from integrations.fortnox import oauth
from integrations.fortnox.errors import FortnoxNeedsReconnect
from integrations.models import FortnoxConnection, TokenHolder

RECONNECT_FIX = gettext_noop("Reconnect Fortnox in the app's settings (Fortnox > Connect).")
# Stored on the connection in English; said in the reader's language where it is raised.
REFUSED = gettext_noop(
    "Fortnox refused to renew the app's access (the authorisation was revoked, expired after "
    "45 days unused, or was used elsewhere)."
)


def _not_usable(connection: FortnoxConnection) -> FortnoxNeedsReconnect:
    if connection.status == FortnoxConnection.Status.DISCONNECTED:
        return FortnoxNeedsReconnect(
            _("Fortnox is not connected to this HubSpot portal."),
            fix=_("Connect Fortnox in the app's settings."),
        )
    # gettext of a stored English sentence the catalogue knows gives it in the active language
    # (a run's: its portal's); one it does not know comes back as stored.
    return FortnoxNeedsReconnect(
        _(
            connection.last_problem
            or gettext_noop("Fortnox no longer accepts the app's authorisation.")
        ),
        fix=_(connection.last_problem_fix or RECONNECT_FIX),
    )


def needs_reconnect_recorder(fix: str) -> Callable[[TokenHolder, Exception], None]:
    """What a refused refresh does to a Fortnox token holder: "needs reconnect", with `fix`."""

    def record(connection: TokenHolder, _refused: Exception) -> None:
        connection.status = FortnoxConnection.Status.NEEDS_RECONNECT
        connection.record_problem(REFUSED, fix)
        connection.save(
            update_fields=[
                "status",
                "last_problem",
                "last_problem_fix",
                "last_problem_at",
                "updated_at",
            ]
        )

    return record


def token_store(connection: TokenHolder, token: dict[str, Any]) -> None:
    """Store Fortnox's token answer on any holder of Fortnox tokens (not saved)."""
    connection.store_tokens(
        token["access_token"],
        token.get("refresh_token"),
        token.get("expires_in", 3600),
        str(token.get("scope", "")).split() or None,
    )


def fortnox_token_source(
    model: type[TokenHolder],
    *,
    not_usable: Callable[[Any], FortnoxNeedsReconnect],
    reconnect_fix: str,
    log_key: str,
) -> tokens.TokenSource:
    """The locked, single-use refresh (integrations/tokens.py) for a model of Fortnox token
    holders: a portal's connections here, the vendor's own in billing/vendor_fortnox.py."""
    return tokens.TokenSource(
        service="fortnox",
        model=model,
        usable=lambda connection: connection.is_usable,
        not_usable=not_usable,
        refresh=lambda refresh_token: oauth.refresh(refresh_token),
        refused_type=FortnoxNeedsReconnect,
        on_refused=needs_reconnect_recorder(reconnect_fix),
        store=token_store,
        log_fields=lambda connection: {log_key: connection.pk},
    )


FORTNOX_TOKENS = fortnox_token_source(
    FortnoxConnection, not_usable=_not_usable, reconnect_fix=RECONNECT_FIX, log_key="connection"
)


def fortnox_access_token_get(connection_id: int) -> str:
    """A token valid for at least a few more minutes, refreshing it first when needed."""
    return tokens.access_token_get(FORTNOX_TOKENS, connection_id)


def fortnox_access_token_refresh(connection_id: int, *, stale_token: str | None) -> str:
    """Refresh unless another worker already replaced `stale_token`; returns the token to use."""
    return tokens.access_token_refresh(FORTNOX_TOKENS, connection_id, stale_token=stale_token)
