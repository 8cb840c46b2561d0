"""Pacing under each service's rate limit, shared by every worker of a tenant.

Both services count requests in a sliding window (Fortnox: 25 per 5 s per client and company,
fortnox-api.md §2; HubSpot: 110 per rolling 10 s per app and portal, hubspot-api.md §7; the
sandboxes count the same way, sandbox/core/ratelimit.py). The limiter is a sliding-window log of
reserved slots: a call's slot is the earliest moment at which at most `limit` slots fall in any
`window`, and never before the slot reserved just before it, so calls go in arrival order and a
busy worker cannot starve another one of the same tenant. Each call reserves its slot and sleeps
until it comes (the retry policy in integrations/calls.py does both, after checking the wait fits
the attempt's deadline): no polling, and no burst beyond the limit, however many workers wait.

Unlike a token bucket, whose worst window forces a lower rate (4 + 4/s kept Fortnox at 80 %),
the log bounds every window exactly, so it can run close to the limit. The margin left is in
time as well as in calls: the window is a little longer than the service's, so a call reaching
the service up to that much later than its slot (network, a busy machine) still cannot share the
service's window with the calls one window later; the one call under the limit covers a later
straggler.

With Redis the log lives in Redis (one Lua script, Redis's own clock), so all workers of all
machines share it; without Redis (the embedded default) it lives in this process, with the same
rules. A 429 that still comes (another client of the same tenant, a stricter count than
documented) halves the tenant's allowance for a while (`rate_limited`), shared the same way; the
call's repeat then reserves a slot under the lowered allowance like any call, so refusals do not
turn into a retry storm. Each quiet `RATE_LIMIT_RECOVERY_S` without a new 429 doubles the
allowance back, up to the full limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings

#: At most this many halvings: the allowance never falls below an eighth of the limit.
SLOWDOWN_MAX_LEVEL = 3
_US = 1_000_000


@dataclass(frozen=True)
class Rate:
    """At most `limit` calls in any `window_s` seconds."""

    limit: int
    window_s: float

    @property
    def per_second(self) -> float:  # sustained, once the first window is used up
        return self.limit / self.window_s

    def slowed(self, level: int) -> int:
        """The allowance per window after `level` halvings (at least one call)."""
        return max(1, self.limit >> level) if level > 0 else self.limit


# Fortnox: 25 requests per sliding 5 s per client and tenant (fortnox-api.md §2). 24 per 5.2 s
# is 4.62 calls/s, 92 % of the limit; a call that reaches Fortnox up to 0.2 s after its slot
# still counts in no fuller window than Fortnox allows, and the 25th call covers one more. The
# C# SDK's 5 calls per 1 s drew 429s (CS-SDK PR #258) because a per-second pace lets 5 calls of
# one second and 25 of the next five share a window; the log cannot.
FORTNOX_CALLS_PER_WINDOW = 24
FORTNOX_WINDOW_S = 5.2
# HubSpot: 110 requests per rolling 10 s per portal and app (hubspot-api.md §7). 104 per 10.2 s
# is 10.2 calls/s, 92.7 % of it, with the same 0.2 s and six calls to spare.
HUBSPOT_CALLS_PER_WINDOW = 104
HUBSPOT_WINDOW_S = 10.2


def _rate_setting(service: str, limit: int, window_s: float) -> Rate:
    """The service's rate from the settings (read once, at start), else the defaults above."""
    window_ms = getattr(settings, f"{service}_WINDOW_MS", None) or int(window_s * 1000)
    return Rate(
        limit=int(getattr(settings, f"{service}_CALLS_PER_WINDOW", None) or limit),
        window_s=window_ms / 1000,
    )


FORTNOX_RATE = _rate_setting("FORTNOX", FORTNOX_CALLS_PER_WINDOW, FORTNOX_WINDOW_S)
HUBSPOT_RATE = _rate_setting("HUBSPOT", HUBSPOT_CALLS_PER_WINDOW, HUBSPOT_WINDOW_S)

# Bulk syncs yield Fortnox's pace (sync/bulk.py, issue 15 "Deal runs first"): a bulk run's
# Fortnox calls reserve from a second, smaller log of the same company first (at most 2 calls in
# any second), then from FORTNOX_RATE like every call. Bulk work therefore takes at most 2 of the
# 4.62 calls a second FORTNOX_RATE lets through (at most 12 of the 24 in any 5.2 s), so more than
# half of the company's pace stays free for deal runs and syncs a person or workflow started,
# even during an import of thousands of records; when nothing else calls, the bulk sync still
# gets its 2 calls/s (a customer update is one call, a new customer two: a lookup and the
# create). The setting FORTNOX_BULK_CALLS_PER_S changes the share (the test suite gives bulk
# syncs 4 a second, nearly the whole pace, so that a 200-company sync takes under two minutes;
# the share is tested on its own).
FORTNOX_BULK_RATE = Rate(limit=2, window_s=1.0)


def fortnox_bulk_rate() -> Rate:
    per_second = getattr(settings, "FORTNOX_BULK_CALLS_PER_S", None)
    if not per_second:
        return FORTNOX_BULK_RATE
    return Rate(limit=max(1, int(per_second)), window_s=1.0)


def recovery_s() -> float:
    """Quiet seconds after which a lowered allowance takes one step back up."""
    return float(getattr(settings, "RATE_LIMIT_RECOVERY_S", None) or 30)


def fortnox_key(client_id: str, tenant: str) -> str:
    """Fortnox counts per client id and tenant (DatabaseNumber: fortnox-api.md §2), so two
    HubSpot portals connected to the same Fortnox company share one log."""
    return f"fortnox:{client_id}:{tenant}"


def bulk_key(key: str) -> str:
    """The bulk share of a log (FORTNOX_BULK_RATE), per the same tenant."""
    return f"{key}:bulk"


def hubspot_key(app_id: str | int, hub_id: str | int) -> str:
    """HubSpot counts per app and portal (hubspot-api.md §7)."""
    return f"hubspot:{app_id}:{hub_id}"


# -- Redis: one script per operation, on Redis's clock (microseconds) -----------------------------
# KEYS[1] the log (a list of slots, ascending: each slot is at least the one before it), KEYS[2]
# the slowdown (level, at: when the level was set, lowered: the last 429 that lowered it).
_LUA_LEVEL = """
local function level_now(state, now, recovery)
  local level = tonumber(state[1])
  if level == nil then return 0 end
  return math.max(0, level - math.floor((now - tonumber(state[2])) / recovery))
end
"""

_LUA_RESERVE = (
    _LUA_LEVEL
    + """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local recovery = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local level = level_now(redis.call('HMGET', KEYS[2], 'level', 'at'), now, recovery)
local allowed = limit
if level > 0 then allowed = math.max(1, math.floor(limit / 2 ^ level)) end
local slot = now
local n = redis.call('LLEN', KEYS[1])
if n > 0 then
  slot = math.max(slot, tonumber(redis.call('LINDEX', KEYS[1], -1)))
  if n >= allowed then
    -- the allowed-th latest slot must have left the window (closed at both ends) first
    slot = math.max(slot, tonumber(redis.call('LINDEX', KEYS[1], -allowed)) + window + 1)
  end
end
redis.call('RPUSH', KEYS[1], string.format('%.0f', slot))
redis.call('LTRIM', KEYS[1], -limit, -1)
redis.call('PEXPIRE', KEYS[1], math.ceil((slot - now + window) / 1000) + 1000)
return {string.format('%.0f', slot - now), string.format('%.0f', slot)}
"""
)

_LUA_LIMITED = (
    _LUA_LEVEL
    + """
local window = tonumber(ARGV[1])
local recovery = tonumber(ARGV[2])
local max_level = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'level', 'at', 'lowered')
local level = level_now(state, now, recovery)
if level > 0 and now - tonumber(state[3]) < window then
  return level  -- calls reserved before the last halving: that one answered for them
end
level = math.min(level + 1, max_level)
local stamp = string.format('%.0f', now)
redis.call('HSET', KEYS[1], 'level', level, 'at', stamp, 'lowered', stamp)
redis.call('PEXPIRE', KEYS[1], math.ceil((max_level + 1) * recovery / 1000))
return level
"""
)


def _redis_keys(key: str) -> list[str]:
    # One hash tag, so both keys of a tenant live on one node should Redis ever be a cluster.
    return [f"ratelimit:{{{key}}}", f"ratelimit:{{{key}}}:slow"]


@lru_cache(maxsize=1)
def _redis_scripts():
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    return client.register_script(_LUA_RESERVE), client.register_script(_LUA_LIMITED)


# -- without Redis: the same rules in this process ---------------------------------------------
class _LocalLogs:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: dict[str, deque[float]] = {}
        self._slow: dict[str, tuple[int, float, float]] = {}  # level, at, lowered

    def _level(self, key: str, now: float, recovery: float) -> int:
        level, at, _ = self._slow.get(key, (0, now, now))
        return max(0, level - math.floor((now - at) / recovery))

    def reserve_slot(self, key: str, rate: Rate, recovery: float) -> tuple[float, float]:
        with self._lock:
            now = self._clock()
            allowed = rate.slowed(self._level(key, now, recovery))
            slots = self._slots.setdefault(key, deque(maxlen=rate.limit))
            slot = now
            if slots:
                slot = max(slot, slots[-1])
                if len(slots) >= allowed:
                    slot = max(slot, slots[-allowed] + rate.window_s + 1 / _US)
            slots.append(slot)
            return slot - now, slot

    def rate_limited(self, key: str, rate: Rate, recovery: float) -> int:
        with self._lock:
            now = self._clock()
            level = self._level(key, now, recovery)
            if level > 0 and now - self._slow[key][2] < rate.window_s:
                return level
            level = min(level + 1, SLOWDOWN_MAX_LEVEL)
            self._slow[key] = (level, now, now)
            return level


_local = _LocalLogs()


def reserve_slot(key: str, rate: Rate) -> tuple[float, float]:
    """Reserve one call: (seconds to wait before making it, the slot on the log's clock)."""
    if settings.REDIS_URL:
        reserve_script, _ = _redis_scripts()
        wait_us, slot_us = reserve_script(
            keys=_redis_keys(key), args=[rate.limit, int(rate.window_s * _US), _recovery_us()]
        )
        return int(wait_us) / _US, int(slot_us) / _US
    return _local.reserve_slot(key, rate, recovery_s())


def reserve(key: str, rate: Rate) -> float:
    """Reserve one call; returns the seconds to wait before making it."""
    return reserve_slot(key, rate)[0]


def rate_limited(key: str, rate: Rate) -> int:
    """The service answered 429 for `key`: halve its allowance (once per window, however many
    calls in flight meet the same 429), recovering a step per quiet RATE_LIMIT_RECOVERY_S.
    Returns the level now (halvings)."""
    if settings.REDIS_URL:
        _, limited_script = _redis_scripts()
        return int(
            limited_script(
                keys=_redis_keys(key)[1:],
                args=[int(rate.window_s * _US), _recovery_us(), SLOWDOWN_MAX_LEVEL],
            )
        )
    return _local.rate_limited(key, rate, recovery_s())


def _recovery_us() -> int:
    return int(recovery_s() * _US)
