"""Faults the tests switch on: latency, failing answers, 429 storms, dropped connections."""

from __future__ import annotations

import random
import threading
from typing import Any

from sandbox.fortnox import errors
from sandbox.fortnox.errors import ApiError

ARTICLE_MISSING_CODES = (errors.ARTICLE_MISSING, errors.ARTICLE_MISSING_LOOKUP)
ARTICLE_MISSING_DEFAULT = {"code": errors.ARTICLE_MISSING, "status": 400}


def parse_code(body: Any) -> int | None:
    info = body.get("ErrorInformation") if isinstance(body, dict) else None
    if not isinstance(info, dict):
        return None
    code = info.get("code", info.get("Code"))
    return int(code) if code is not None else None


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
            # How an unknown article on a document's row is answered (None: 400, 2001302).
            self.article_missing: dict[str, int] | None = None
            self.holds: list[dict[str, Any]] = []

    def describe(self) -> dict[str, Any]:
        with self._lock:
            remaining = max(0.0, self.storm_until - self.clock.time())
            return {
                "latency": {"min_ms": self.latency[0], "max_ms": self.latency[1]},
                "fail_next": [dict(r) for r in self.fail_next],
                "rate_limit_storm": {"active": remaining > 0, "seconds_left": round(remaining, 3)},
                "commit_then_drop": [dict(r) for r in self.drops],
                "article_missing_answer": dict(self.article_missing or ARTICLE_MISSING_DEFAULT),
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

    def set_article_missing(self, code: int, status: int) -> None:
        """Answer an unknown article on a POST/PUT of an invoice or order with `code` and HTTP
        `status` instead of 400 2001302: Fortnox's status on a POST is unconfirmed and 2000428
        may come too (fortnox-api.md Addendum §4), so a client must cope with each."""
        if int(code) not in ARTICLE_MISSING_CODES or int(status) not in (400, 404):
            raise ValueError("code must be 2001302 or 2000428, status 400 or 404")
        with self._lock:
            self.article_missing = {"code": int(code), "status": int(status)}

    def article_missing_answer(self, exc: ApiError, method: str, parts: list[str]) -> ApiError:
        """`exc` as the switch says, when it is the unknown-article answer to a document write."""
        chosen = self.article_missing
        if (
            chosen is None
            or method not in ("POST", "PUT")
            or parts[:1] not in (["invoices"], ["orders"])
            or parse_code(exc.body) != errors.ARTICLE_MISSING
        ):
            return exc
        message = exc.body["ErrorInformation"]["message"]
        if chosen["code"] == errors.ARTICLE_MISSING_LOOKUP:
            message = errors.NOT_FOUND["articles"][1]
        # 404 answers carry the capitalised keys, 400 answers the lower-case ones (recorded).
        shape = errors.upper if chosen["status"] == 404 else errors.lower
        return shape(chosen["status"], chosen["code"], message)

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
