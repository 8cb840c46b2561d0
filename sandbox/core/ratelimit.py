"""Sliding-window rate limiting, the way both real APIs count requests."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable


class SlidingWindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds, per key.

    ``hit`` records the request when it is allowed and returns ``(allowed, remaining,
    retry_after_seconds)``. Refused requests are not counted, as with Fortnox and HubSpot.
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: Hashable) -> tuple[bool, int, float]:
        now = self._clock()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False, 0, max(0.0, hits[0] + self.window - now)
            hits.append(now)
            return True, self.limit - len(hits), 0.0

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
