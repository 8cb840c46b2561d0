"""Faults the tests switch on: latency, failing answers, 429 storms, dropped connections."""

from __future__ import annotations

import random
import threading
from typing import Any


class Faults:
    def __init__(self, clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.latency: tuple[int, int] = (0, 0)
            self.fail_next: list[dict[str, Any]] = []
            self.storm_until: float = 0.0
            self.drops: list[dict[str, Any]] = []
            self.holds: list[dict[str, Any]] = []

    def describe(self) -> dict[str, Any]:
        with self._lock:
            remaining = max(0.0, self.storm_until - self.clock.time())
            return {
                "latency": {"min_ms": self.latency[0], "max_ms": self.latency[1]},
                "fail_next": [dict(r) for r in self.fail_next],
                "rate_limit_storm": {"active": remaining > 0, "seconds_left": round(remaining, 3)},
                "commit_then_drop": [dict(r) for r in self.drops],
                "commit_then_hold": [dict(r) for r in self.holds],
            }

    def set_latency(self, min_ms: int, max_ms: int) -> None:
        with self._lock:
            self.latency = (max(0, int(min_ms)), max(int(min_ms), int(max_ms)))

    def delay_seconds(self) -> float:
        lo, hi = self.latency
        if hi <= 0:
            return 0.0
        return (lo if lo == hi else random.uniform(lo, hi)) / 1000.0

    def add_fail_next(
        self, count: int, status: int, method: str | None, path_prefix: str | None
    ) -> None:
        with self._lock:
            self.fail_next.append(
                {
                    "count": int(count),
                    "status": int(status),
                    "method": method.upper() if method else None,
                    "path_prefix": path_prefix or "",
                }
            )

    def take_failure(self, method: str, path: str) -> int | None:
        with self._lock:
            for rule in self.fail_next:
                if rule["count"] <= 0:
                    continue
                if rule["method"] and rule["method"] != method:
                    continue
                if not path.startswith(rule["path_prefix"]):
                    continue
                rule["count"] -= 1
                status = rule["status"]
                self.fail_next = [r for r in self.fail_next if r["count"] > 0]
                return status
        return None

    def start_storm(self, seconds: float) -> None:
        with self._lock:
            self.storm_until = self.clock.time() + float(seconds)

    def storm_active(self) -> bool:
        return self.storm_until > self.clock.time()

    def add_drop(self, count: int, path_prefix: str | None) -> None:
        with self._lock:
            self.drops.append({"count": int(count), "path_prefix": path_prefix or "/3/"})

    def take_drop(self, method: str, path: str) -> bool:
        if method != "POST" or not self.drops:
            return False
        with self._lock:
            for rule in self.drops:
                if rule["count"] > 0 and path.startswith(rule["path_prefix"]):
                    rule["count"] -= 1
                    self.drops = [r for r in self.drops if r["count"] > 0]
                    return True
        return False

    def add_hold(self, count: int, path_prefix: str | None, seconds: float) -> None:
        with self._lock:
            self.holds.append(
                {
                    "count": int(count),
                    "path_prefix": path_prefix or "/3/",
                    "seconds": float(seconds),
                }
            )

    def take_hold(self, method: str, path: str) -> float:
        """Seconds to hold the answer of this (committed) POST, 0 for none."""
        if method != "POST" or not self.holds:
            return 0.0
        with self._lock:
            for rule in self.holds:
                if rule["count"] > 0 and path.startswith(rule["path_prefix"]):
                    rule["count"] -= 1
                    self.holds = [r for r in self.holds if r["count"] > 0]
                    return rule["seconds"]
        return 0.0
