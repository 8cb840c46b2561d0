"""The time a run attempt may still spend on HubSpot and Fortnox, for every call it makes.

The run engine wraps each attempt in `with deadline(run.lease_until - margin):`; the adapters read
`time_left()` before each call and bound their waits and timeouts by it, so no call outlives the
attempt's lease whatever the worker pool (Celery's soft and hard time limits do nothing in the
threads pool the tests use, and a killed task would not let the run record what happened).

A contextvar rather than a parameter: the deadline belongs to the attempt, and the calls happen
deep inside services that should not have to pass it along. Outside any `deadline(...)` block
there is no limit (web requests, management commands)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from integrations.errors import DeadlineExceeded

#: Below this many seconds left a request is not worth sending: it could not get an answer.
MIN_REQUEST_S = 2.0

_until: ContextVar[datetime.datetime | None] = ContextVar("integrations_deadline", default=None)


@contextmanager
def deadline(until: datetime.datetime | None) -> Iterator[None]:
    """Calls inside the block end by `until` (timezone-aware). Nested blocks keep the earlier
    deadline; None adds no limit."""
    if until is not None and until.tzinfo is None:
        raise ValueError("deadline(until): give a timezone-aware datetime, e.g. timezone.now()")
    current = _until.get()
    if current is not None and (until is None or current < until):
        until = current
    token = _until.set(until)
    try:
        yield
    finally:
        _until.reset(token)


def time_left() -> float | None:
    """Seconds until the current deadline (negative once passed), or None when there is none."""
    until = _until.get()
    if until is None:
        return None
    return (until - datetime.datetime.now(datetime.UTC)).total_seconds()


def time_ensure(service: str, wait: float = 0.0, *, waiting: bool = False) -> None:
    """Raise DeadlineExceeded unless the time left covers `wait` plus a useful request."""
    left = time_left()
    if left is not None and left < wait + MIN_REQUEST_S:
        raise DeadlineExceeded(service, waiting=waiting)


def timeout_bounded(timeout: tuple[float, float]) -> tuple[float, float]:
    """(connect, read) timeouts, each cut to the time left, so a slow answer cannot outlive
    the deadline. (requests and urllib3 apply the read timeout to each wait for data; our
    answers are small, so that is the whole answer in practice.)"""
    left = time_left()
    if left is None:
        return timeout
    left = max(left, 0.001)  # a zero timeout means "no timeout" to some clients
    return (min(timeout[0], left), min(timeout[1], left))
