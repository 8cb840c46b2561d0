"""The sandbox clock: real time plus an offset that tests move forward."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timedelta, timezone

try:
    from zoneinfo import ZoneInfo

    STOCKHOLM: timezone | ZoneInfo = ZoneInfo("Europe/Stockholm")
except Exception:  # no tz database: Swedish winter time is close enough
    STOCKHOLM = timezone(timedelta(hours=1))


class SandboxClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += float(seconds)

    def set_offset(self, seconds: float) -> None:
        with self._lock:
            self._offset = float(seconds)

    def time(self) -> float:
        """Epoch seconds, shifted."""
        return time.time() + self._offset

    def monotonic(self) -> float:
        """For the rate limiter: moves with the offset too."""
        return time.monotonic() + self._offset

    def now(self) -> datetime:
        """Local (Swedish) time, as Fortnox stamps documents."""
        return datetime.fromtimestamp(self.time(), STOCKHOLM)

    def today(self) -> date:
        return self.now().date()

    def stamp(self) -> str:
        """Fortnox's date-time format: 2014-12-01 09:30:00."""
        return self.now().strftime("%Y-%m-%d %H:%M:%S")
