"""Access tokens for both services: proactive refresh, refresh on 401, one refresh at a time.

A refresh takes a row lock on the token holder (SELECT ... FOR UPDATE, held across the call to
the service), re-reads the token once it has the lock (another worker may have refreshed
meanwhile) and saves the new pair in the same transaction. Fortnox needs this: its refresh
tokens are single-use (fortnox-api.md §1.4), so two workers refreshing at once would kill the
connection. HubSpot's are reusable, but refreshing in every worker at once wastes calls under
the portal's rate limit, so the same discipline applies.

A refused refresh is recorded on the row (the vendor's `on_refused`) in the transaction, which
then commits; the error is raised after it, so the recorded state is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import transaction

from integrations.errors import IntegrationError
from integrations.models import TokenHolder

logger = logging.getLogger(__name__)

Holder = TypeVar("Holder", bound=TokenHolder)


@dataclass(frozen=True)
class TokenSource(Generic[Holder]):
    service: str  # for logs: "fortnox"
    model: type[Holder]
    usable: Callable[[Holder], bool]
    #: The error for a holder that cannot be used (disconnected, uninstalled, refused).
    not_usable: Callable[[Holder], IntegrationError]
    #: The vendor's refresh grant (integrations.oauth.token_call underneath).
    refresh: Callable[[str], dict[str, Any]]
    #: The error type the vendor's OAuth raises for a refused refresh.
    refused_type: type[IntegrationError]
    #: Record a refusal on the locked holder and save it.
    on_refused: Callable[[Holder, IntegrationError], None]
    #: Store a fresh token answer on the locked holder (not saved yet).
    store: Callable[[Holder, dict[str, Any]], None]
    log_fields: Callable[[Holder], dict[str, Any]]


def access_token_get(source: TokenSource[Holder], pk: int) -> str:
    """A token valid for at least a few more minutes, refreshing it first when needed."""
    holder = source.model.objects.get(pk=pk)
    if not source.usable(holder):
        raise source.not_usable(holder)
    if holder.access_token_is_fresh():
        return holder.access_token
    return access_token_refresh(source, pk, stale_token=holder.access_token)


def access_token_refresh(source: TokenSource[Holder], pk: int, *, stale_token: str | None) -> str:
    """Refresh unless another worker already replaced `stale_token`; returns the token to use."""
    with transaction.atomic():
        holder = source.model.objects.select_for_update().get(pk=pk)
        if not source.usable(holder):
            raise source.not_usable(holder)
        if holder.access_token != stale_token and holder.access_token_is_fresh():
            return holder.access_token  # someone refreshed while we waited for the lock
        try:
            token = source.refresh(holder.refresh_token)
        except source.refused_type as exc:
            source.on_refused(holder, exc)
            refused = exc
        else:
            source.store(holder, token)
            holder.clear_problem()
            holder.save()
            logger.info(
                "token refreshed", extra={"service": source.service, **source.log_fields(holder)}
            )
            return holder.access_token
    logger.warning(
        "token refresh refused",
        extra={"service": source.service, **source.log_fields(holder), "code": refused.code},
    )
    raise source.not_usable(source.model.objects.get(pk=pk)) from refused
