"""Recording what HubSpot signed but we could not use (sync.models.InboundRejection)."""

from __future__ import annotations

import json
import logging
from typing import Any

from cloudify.logging import request_id_var
from sync.models import InboundRejection

logger = logging.getLogger(__name__)


def _printable(text: str) -> str:
    """Text PostgreSQL can store: no NUL characters, no unpaired surrogates (JSON "\\ud800")."""
    text = text[: InboundRejection.RAW_KEPT_CHARS].replace("\x00", "\\u0000")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def raw_text(received: bytes | Any) -> str:
    """What was received, as text for staff: a body as sent, an event as JSON."""
    if isinstance(received, bytes):
        return _printable(
            received[: InboundRejection.RAW_KEPT_CHARS * 4].decode("utf-8", "replace")
        )
    try:
        text = json.dumps(received, ensure_ascii=False, default=str)
    except (RecursionError, ValueError, TypeError):  # nested deeper than we can walk back
        text = f"(not shown: {type(received).__name__} nested too deeply)"
    return _printable(text)


def inbound_rejection_record(
    kind: str,
    reason: str,
    received: bytes | Any,
    *,
    hub_id: int | None = None,
    event_index: int | None = None,
) -> InboundRejection:
    rejection = InboundRejection.objects.create(
        kind=kind,
        reason=_printable(reason),
        raw=raw_text(received),
        hub_id=hub_id,
        event_index=event_index,
        request_id=request_id_var.get()[:64],
    )
    logger.warning(
        "inbound request rejected",
        extra={
            "rejection": rejection.pk,
            "kind": kind,
            "portal": hub_id,
            "event_index": event_index,
            "reason": rejection.reason[:500],
        },
    )
    return rejection
