"""A run's step log: each HTTP call made for the run (by its attempts and by its deliveries)."""

from __future__ import annotations

from integrations.calls import CallRecord
from sync.models import RunStep


def run_step_call_record(run_id: int, attempt: int, call: CallRecord, *, about: str = "") -> None:
    """One step for one call; `about` says what it was for when not the run itself."""
    said = call.error or (
        f"waited {call.waited_ms} ms for the rate limit" if call.waited_ms else ""
    )
    RunStep.objects.create(
        run_id=run_id,
        kind="call",
        attempt=attempt,
        service=call.service,
        method=call.method,
        path=call.path[:300],
        status=call.status,
        duration_ms=call.duration_ms,
        message=": ".join(part for part in (about, said) if part),
    )
