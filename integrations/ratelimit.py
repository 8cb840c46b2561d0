"""Pacing under each service's rate limit, shared by every worker of a tenant.

A token bucket: each call reserves a slot and sleeps until its slot comes (the retry policy in
integrations/calls.py does both, after checking the wait fits the attempt's deadline). With
Redis the bucket lives in Redis (one Lua script, Redis's own clock), so all workers of all
machines share it; without Redis (the embedded default) it lives in this process. Reserving
rather than refusing keeps calls in arrival order, so a busy worker cannot starve another one of
the same tenant.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int

    @property
    def max_in(self) -> float:  # documentation aid: most calls in any 1 s
        return self.burst + self.per_second


# Fortnox: 25 requests per sliding 5 s per client and tenant (fortnox-api.md §2). A bucket of 4
# refilled at 4/s lets at most 4 + 5 * 4 = 24 through in any 5 s: one under the limit, which
# leaves room for clock skew between our reservation and Fortnox's count. The C# SDK settled on
# 4/s after 5/s still drew 429s (CS-SDK PR #258).
FORTNOX_RATE = Rate(per_second=4.0, burst=4)
# Bulk syncs yield Fortnox's pace (sync/bulk.py, issue 15 "Deal runs first"): a bulk run's
# Fortnox calls reserve from a second, slower bucket of the same company first, then from
# FORTNOX_RATE like every call. Bulk work therefore takes at most 2 + 5 * 2 = 12 of the 24 calls
# FORTNOX_RATE lets through in any 5 s, so at least half of the company's pace (2 calls/s) stays
# free for deal runs and syncs a person or workflow started, even during an import of
# thousands of records; when nothing else calls, the bulk sync still gets its 2 calls/s (a
# customer update is one call, a new customer two: a lookup and the create). The setting
# FORTNOX_BULK_CALLS_PER_S changes the share (the test suite gives bulk syncs the whole pace, so
# that a 200-company sync takes under two minutes; the share is tested on its own).
FORTNOX_BULK_RATE = Rate(per_second=2.0, burst=2)


def fortnox_bulk_rate() -> Rate:
    per_second = getattr(settings, "FORTNOX_BULK_CALLS_PER_S", None)
    if not per_second:
        return FORTNOX_BULK_RATE
    return Rate(per_second=float(per_second), burst=max(1, int(per_second)))


# HubSpot: 110 requests per 10 s per portal and app (hubspot-api.md §7): 10 + 10 * 9 = 100.
HUBSPOT_RATE = Rate(per_second=9.0, burst=10)


def fortnox_key(client_id: str, tenant: str) -> str:
    """Fortnox counts per client id and tenant (DatabaseNumber: fortnox-api.md §2), so two
    HubSpot portals connected to the same Fortnox company share one bucket."""
    return f"fortnox:{client_id}:{tenant}"


def bulk_key(key: str) -> str:
    """The bulk share of a bucket (FORTNOX_BULK_RATE), per the same tenant."""
    return f"{key}:bulk"


def hubspot_key(app_id: str | int, hub_id: str | int) -> str:
    """HubSpot counts per app and portal (hubspot-api.md §7)."""
    return f"hubspot:{app_id}:{hub_id}"


_LUA_RESERVE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], 60000)
if tokens >= 0 then return 0 end
return math.ceil(-tokens * 1000 / rate)
"""


class _LocalBuckets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def reserve(self, key: str, rate: Rate) -> float:
        with self._lock:
            now = time.monotonic()
            tokens, ts = self._state.get(key, (float(rate.burst), now))
            tokens = min(rate.burst, tokens + (now - ts) * rate.per_second) - 1
            self._state[key] = (tokens, now)
            return 0.0 if tokens >= 0 else -tokens / rate.per_second


_local = _LocalBuckets()


@lru_cache(maxsize=1)
def _redis_script():
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    return client.register_script(_LUA_RESERVE)


def reserve(key: str, rate: Rate) -> float:
    """Reserve one call; returns the seconds to wait before making it."""
    if settings.REDIS_URL:
        return (
            int(_redis_script()(keys=[f"ratelimit:{key}"], args=[rate.per_second, rate.burst]))
            / 1000
        )
    return _local.reserve(key, rate)
