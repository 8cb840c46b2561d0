"""Pacing: the bucket hands out slots so no 5-second window exceeds Fortnox's 25 calls."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from integrations import ratelimit


def _schedule(n: int, rate: ratelimit.Rate) -> list[float]:
    """When each of n back-to-back calls may go, relative to the first reservation."""
    key = f"test-{uuid.uuid4().hex}"
    return [ratelimit.reserve(key, rate) for _ in range(n)]


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_back_to_back_calls_never_exceed_fortnox_window(backend, monkeypatch):
    if backend == "redis" and not settings.REDIS_URL:
        pytest.skip("no Redis in this run (make test uses Redis when it answers)")
    if backend == "local":
        monkeypatch.setattr(settings, "REDIS_URL", "")
    waits = _schedule(60, ratelimit.FORTNOX_RATE)
    assert waits[: ratelimit.FORTNOX_RATE.burst] == [0] * ratelimit.FORTNOX_RATE.burst
    # Count the calls falling in any 5-second window starting at a call.
    for start in waits:
        in_window = sum(1 for t in waits if start <= t < start + 5)
        assert in_window <= 24
    # And the pacing is not wastefully slow: 60 calls fit in about 14 s at 4/s.
    assert 13 <= max(waits) <= 14.5


def test_tenants_do_not_share_a_bucket(monkeypatch):
    monkeypatch.setattr(settings, "REDIS_URL", "")
    assert _schedule(4, ratelimit.FORTNOX_RATE) == [0, 0, 0, 0]
    assert _schedule(4, ratelimit.FORTNOX_RATE) == [0, 0, 0, 0]
