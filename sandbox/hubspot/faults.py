"""Injected faults: latency, the next N requests failing, an outage of N seconds, a rate-limit
storm, a request carried out whose answer is lost (commit-then-drop), expired tokens, an
uninstalled portal. Only API and OAuth calls are affected, never /_sandbox."""

from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING, Any

from sandbox.hubspot.http import ApiError, internal_error, validation_error

if TYPE_CHECKING:
    from sandbox.hubspot.routing import Ctx, Route


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.latency: tuple[int, int] | None = None
            self.fail_next: list[dict[str, Any]] = []
            self.outages: list[dict[str, Any]] = []
            self.drops: list[dict[str, Any]] = []
            self.storm_until = 0.0

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency": {"min_ms": self.latency[0], "max_ms": self.latency[1]}
                if self.latency
                else None,
                "fail_next": [dict(rule) for rule in self.fail_next],
                "outages": [
                    {
                        "status": rule["status"],
                        "method": rule["method"],
                        "path_prefix": rule["path_prefix"],
                        "seconds_left": round(max(0.0, rule["until"] - time.monotonic()), 3),
                    }
                    for rule in self.outages
                    if rule["until"] > time.monotonic()
                ],
                "commit_then_drop": [dict(rule) for rule in self.drops],
                "rate_limit_storm_seconds_left": max(0.0, self.storm_until - time.monotonic()),
            }

    def storming(self) -> bool:
        return time.monotonic() < self.storm_until

    def before(self, method: str, path: str) -> ApiError | None:
        """Sleep for injected latency; the error to answer with when a fail-next rule matches."""
        latency = self.latency
        if latency:
            time.sleep(random.uniform(latency[0], latency[1]) / 1000)
        if not self.fail_next and not self.outages:
            return None
        with self._lock:
            now = time.monotonic()
            self.outages = [rule for rule in self.outages if rule["until"] > now]
            for rule in self.outages:
                if _matches(rule, method, path):
                    return _failure(rule["status"])
            for rule in self.fail_next:
                if not _matches(rule, method, path):
                    continue
                rule["count"] -= 1
                if rule["count"] <= 0:
                    self.fail_next.remove(rule)
                return _failure(rule["status"])
        return None

    def take_drop(self, method: str, path: str) -> bool:
        """True when the answer to this request, already carried out, is to be lost."""
        if not self.drops:
            return False
        with self._lock:
            for rule in self.drops:
                if _matches(rule, method, path):
                    rule["count"] -= 1
                    if rule["count"] <= 0:
                        self.drops.remove(rule)
                    return True
        return False


def _matches(rule: dict[str, Any], method: str, path: str) -> bool:
    if rule["method"] and rule["method"] != method:
        return False
    return not rule["path_prefix"] or path.startswith(rule["path_prefix"])


def _failure(status: int) -> ApiError:
    from sandbox.hubspot.auth import rate_limited_error

    if status == 429:
        return rate_limited_error(None)
    if status == 401:
        from sandbox.hubspot.http import unauthorized

        return unauthorized(
            "The OAuth token used to make this call expired 1 second(s) ago.",
            "EXPIRED_AUTHENTICATION",
        )
    if status >= 500:
        return internal_error(status)
    if status == 400:
        return validation_error("Injected failure (sandbox fail-next)")
    from sandbox.hubspot.http import error_body

    return ApiError(status, error_body("Injected failure (sandbox fail-next)", "ERROR"))


# -- admin routes ---------------------------------------------------------------------------


def _num(body: dict, name: str, default: Any) -> Any:
    value = body.get(name, default)
    try:
        return type(default)(value)
    except (TypeError, ValueError):
        raise validation_error(f"{name} must be a number") from None


def latency(ctx: Ctx):
    body = ctx.json({}) or {}
    low = _num(body, "min_ms", 0)
    high = _num(body, "max_ms", low)
    with ctx.sb.faults._lock:
        ctx.sb.faults.latency = (low, max(low, high)) if high > 0 else None
    return ctx.sb.faults.describe()


def fail_next(ctx: Ctx):
    body = ctx.json({}) or {}
    rule = {
        "count": _num(body, "count", 1),
        "status": _num(body, "status", 500),
        "method": (body.get("method") or "").upper() or None,
        "path_prefix": body.get("path_prefix") or None,
    }
    with ctx.sb.faults._lock:
        ctx.sb.faults.fail_next.append(rule)
    return ctx.sb.faults.describe()


def outage(ctx: Ctx):
    """Every matching call answers `status` (default 503) for `seconds`: HubSpot down a while."""
    body = ctx.json({}) or {}
    seconds = _num(body, "seconds", 60.0)
    rule = {
        "until": time.monotonic() + seconds,
        "status": _num(body, "status", 503),
        "method": (body.get("method") or "").upper() or None,
        "path_prefix": body.get("path_prefix") or None,
    }
    with ctx.sb.faults._lock:
        ctx.sb.faults.outages.append(rule)
    return ctx.sb.faults.describe()


def commit_then_drop(ctx: Ctx):
    """The next `count` matching calls (default: POSTs) are carried out and stored, then the
    connection is closed without an answer: the caller cannot tell whether HubSpot stored it."""
    body = ctx.json({}) or {}
    rule = {
        "count": _num(body, "count", 1),
        "method": (body.get("method") or "POST").upper(),
        "path_prefix": body.get("path_prefix") or None,
    }
    with ctx.sb.faults._lock:
        ctx.sb.faults.drops.append(rule)
    return ctx.sb.faults.describe()


def storm(ctx: Ctx):
    body = ctx.json({}) or {}
    seconds = _num(body, "seconds", 10.0)
    ctx.sb.faults.storm_until = time.monotonic() + seconds
    return ctx.sb.faults.describe()


def expire_tokens(ctx: Ctx):
    sb = ctx.sb
    with sb.store.lock:
        now = sb.clock.now()
        count = 0
        for token in sb.store.access_tokens.values():
            if token["expires_at"] > now:
                token["expires_at"] = now - 1
                count += 1
    return {"expired": count}


def uninstall(ctx: Ctx):
    body = ctx.json({}) or {}
    hub = body.get("portal")
    with ctx.sb.store.lock:
        portal = ctx.sb.store.portal(hub)
        if portal is None:
            raise validation_error(f"unknown portal {hub}")
        revoked = ctx.sb.uninstall(portal)
    return {"portal": portal.hub_id, "installed": False, "refresh_tokens_revoked": revoked}


def clear(ctx: Ctx):
    ctx.sb.faults.clear()
    return ctx.sb.faults.describe()


def get(ctx: Ctx):
    return ctx.sb.faults.describe()


def routes() -> list[Route]:
    from sandbox.hubspot.routing import Route

    return [
        Route("/_sandbox/faults", ["GET"], get, "admin"),
        Route("/_sandbox/faults", ["DELETE"], clear, "admin"),
        Route("/_sandbox/faults/latency", ["POST"], latency, "admin"),
        Route("/_sandbox/faults/fail-next", ["POST"], fail_next, "admin"),
        Route("/_sandbox/faults/outage", ["POST"], outage, "admin"),
        Route("/_sandbox/faults/commit-then-drop", ["POST"], commit_then_drop, "admin"),
        Route("/_sandbox/faults/rate-limit-storm", ["POST"], storm, "admin"),
        Route("/_sandbox/faults/expire-tokens", ["POST"], expire_tokens, "admin"),
        Route("/_sandbox/faults/uninstall", ["POST"], uninstall, "admin"),
    ]
