"""The sandbox clock: real time plus an offset that `POST /_sandbox/clock` moves forward.

It drives token and code expiry, signed-URL expiry, `occurredAt` and the signature timestamps,
so a test can age a token by 31 minutes without waiting. Rate limits and retry delays use the
real monotonic clock (they are about load, not about what the sandbox pretends the time is).
"""

from __future__ import annotations

import threading
import time


class SandboxClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    @property
    def offset(self) -> float:
        return self._offset

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
