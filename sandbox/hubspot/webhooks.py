"""Webhook deliveries, the way HubSpot sends them (hubspot-api.md §3 and Addendum §2).

- Changes made through the API or /_sandbox (creations, property changes, deletions) become
  events for the app's active subscriptions in portals where the app is installed: generic
  `object.*` subscriptions carry `objectTypeId` ("0-3"), legacy `deal.*` ones do not.
- Events wait `batch_window_ms`, then go out as a JSON array of at most `max_batch_size` (100)
  events, with at most `max_concurrent` (the project's maxConcurrentRequests, 10) requests in
  flight per portal, signed v1 + v3.
- A non-2xx answer, no answer within `timeout_ms` (5 s) or a failed connection is retried up to
  10 times on HubSpot's 24-hour schedule (RETRY_DELAYS_S) divided by `speed`, with ±`jitter`;
  `attemptNumber` counts the tries from 0.
- With `duplicate_rate` p, a delivered batch is sent once more with probability p (the same
  events and eventIds). eventIds come from a per-portal counter, so they repeat across portals.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.hubspot import schema

if TYPE_CHECKING:
    from sandbox.hubspot.delivery import Delivery
    from sandbox.hubspot.store import Change

logger = logging.getLogger("sandbox.hubspot.webhooks")

# Seconds before retry 1..10: ten retries spread over ~24 h (hubspot-api.md §3.1, Retries).
RETRY_DELAYS_S = [60, 120, 300, 600, 1200, 2400, 4800, 9600, 19200, 43200]
MAX_RETRIES = len(RETRY_DELAYS_S)
DUPLICATE_DELAY_S = 0.05


@dataclass
class Batch:
    hub_id: int
    events: list[dict[str, Any]]
    generation: int
    attempt: int = 0
    duplicate: bool = False
    seq: int = field(default_factory=itertools.count().__next__)


def subscription_matches(sub: dict[str, Any], change: Change) -> tuple[bool, bool]:
    """(matches, generic) for an active subscription and a change."""
    if not sub.get("active", True):
        return False, False
    stype = str(sub.get("subscriptionType", ""))
    prefix, _, kind = stype.partition(".")
    if kind != change.kind:
        return False, False
    if prefix == "object":
        raw_type = str(
            sub.get("objectType") or sub.get("objectName") or sub.get("objectTypeId") or ""
        )
        generic = True
    else:
        raw_type, generic = prefix, False
    try:
        if schema.object_type(raw_type) != change.object_type:
            return False, False
    except Exception:
        return False, False
    if kind == "propertyChange" and sub.get("propertyName") != change.property_name:
        return False, False
    return True, generic


class Webhooks:
    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.cond = threading.Condition()
        self.generation = 0
        self.incoming: dict[int, list[tuple[float, dict[str, Any]]]] = {}
        self.ready: dict[int, deque[Batch]] = {}
        self.scheduled: list[tuple[float, int, Batch]] = []
        self.in_flight: dict[int, int] = {}
        self.stats: dict[str, int] = {}
        self._stop = False
        self.executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="hubspot-webhook")
        self.thread = threading.Thread(target=self._run, name="hubspot-webhooks", daemon=True)
        self.thread.start()

    # -- events ---------------------------------------------------------------------------------
    def on_changes(self, changes: list[Change]) -> None:
        """Called with the store lock held: turn changes into events and queue them."""
        sb = self.delivery.sb
        app = sb.store.app
        events = []
        for change in changes:
            portal = sb.store.portal(change.hub_id)
            if portal is None or not portal.installed:
                self._count("events_not_installed")
                continue
            for sub in app.get("subscriptions", []):
                matches, generic = subscription_matches(sub, change)
                if not matches:
                    continue
                event: dict[str, Any] = {
                    "eventId": portal.next_event_id,
                    "subscriptionId": sub["id"],
                    "portalId": portal.hub_id,
                    "appId": app["app_id"],
                    "occurredAt": change.occurred_at_ms,
                    "subscriptionType": sub["subscriptionType"],
                    "attemptNumber": 0,
                    "objectId": int(change.object_id),
                }
                portal.next_event_id += 1
                if generic:
                    event["objectTypeId"] = schema.type_id(change.object_type)
                if change.kind == "propertyChange":
                    event["propertyName"] = change.property_name
                    event["propertyValue"] = change.property_value
                elif change.kind == "creation":
                    event["changeFlag"] = "CREATED"
                elif change.kind == "deletion":
                    event["changeFlag"] = "DELETED"
                event["changeSource"] = change.source.change_source
                event["sourceId"] = change.source.source_id
                if change.kind == "propertyChange":
                    event["isSensitive"] = False
                events.append(event)
        if events:
            self.enqueue(events)

    def enqueue(self, events: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        with self.cond:
            for event in events:
                self.incoming.setdefault(int(event["portalId"]), []).append((now, event))
            self.stats["events"] = self.stats.get("events", 0) + len(events)
            self.cond.notify_all()

    def _count(self, name: str, n: int = 1) -> None:
        self.stats[name] = self.stats.get(name, 0) + n

    def drop_portal(self, hub_id: int) -> None:
        """An uninstalled portal gets nothing more (its subscriptions are removed)."""
        with self.cond:
            self.incoming.pop(hub_id, None)
            self.ready.pop(hub_id, None)
            self.scheduled = [s for s in self.scheduled if s[2].hub_id != hub_id]
            heapq.heapify(self.scheduled)
            self.cond.notify_all()

    # -- the dispatcher -------------------------------------------------------------------------
    def _run(self) -> None:
        with self.cond:
            while not self._stop:
                config = self.delivery.config
                now = time.monotonic()
                wake: float | None = None
                window = float(config["batch_window_ms"]) / 1000
                size = max(1, int(config["max_batch_size"]))
                for hub, items in self.incoming.items():
                    while items and (len(items) >= size or now - items[0][0] >= window):
                        chunk = [event for _at, event in items[:size]]
                        del items[:size]
                        self.ready.setdefault(hub, deque()).append(
                            Batch(hub, chunk, self.generation)
                        )
                    if items:
                        due = items[0][0] + window
                        wake = due if wake is None else min(wake, due)
                while self.scheduled and self.scheduled[0][0] <= now:
                    _due, _seq, batch = heapq.heappop(self.scheduled)
                    self.ready.setdefault(batch.hub_id, deque()).appendleft(batch)
                if self.scheduled:
                    due = self.scheduled[0][0]
                    wake = due if wake is None else min(wake, due)
                limit = self.delivery.max_concurrent()
                for hub, queue in self.ready.items():
                    while queue and self.in_flight.get(hub, 0) < limit:
                        batch = queue.popleft()
                        self.in_flight[hub] = self.in_flight.get(hub, 0) + 1
                        self.executor.submit(self._send, batch)
                self.cond.wait(None if wake is None else max(0.0, wake - now) + 0.001)

    def _send(self, batch: Batch) -> None:
        try:
            ok = self.delivery.post_webhook(batch)
        except Exception:  # a bug here must not wedge the portal's in-flight count
            logger.exception("webhook delivery crashed")
            ok = False
        config = self.delivery.config
        with self.cond:
            if batch.generation != self.generation:
                return
            self.in_flight[batch.hub_id] = max(0, self.in_flight.get(batch.hub_id, 1) - 1)
            now = time.monotonic()
            if ok:
                self._count("delivered_batches")
                self._count("delivered_events", len(batch.events))
                if not batch.duplicate and random.random() < float(config["duplicate_rate"]):
                    copy = Batch(batch.hub_id, batch.events, batch.generation, batch.attempt, True)
                    heapq.heappush(self.scheduled, (now + DUPLICATE_DELAY_S, copy.seq, copy))
                    self._count("duplicates")
            elif batch.attempt < min(int(config["max_retries"]), MAX_RETRIES):
                delay = RETRY_DELAYS_S[batch.attempt] / max(float(config["speed"]), 1e-9)
                jitter = float(config["jitter"])
                if jitter:
                    delay *= 1 + random.uniform(-jitter, jitter)
                batch.attempt += 1
                heapq.heappush(self.scheduled, (now + delay, batch.seq, batch))
                self._count("retries")
            else:
                self._count("given_up_batches")
                self._count("given_up_events", len(batch.events))
            self.cond.notify_all()

    # -- control --------------------------------------------------------------------------------
    def pending(self) -> dict[str, int]:
        return {
            "incoming": sum(len(v) for v in self.incoming.values()),
            "ready": sum(len(v) for v in self.ready.values()),
            "scheduled": len(self.scheduled),
            "in_flight": sum(self.in_flight.values()),
        }

    def drain(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                pending = self.pending()
                if not any(pending.values()):
                    return {"drained": True, **pending, **self.stats}
                left = deadline - time.monotonic()
                if left <= 0:
                    return {"drained": False, **pending, **self.stats}
                self.cond.wait(min(left, 0.05))

    def reset(self) -> None:
        with self.cond:
            self.generation += 1
            self.incoming.clear()
            self.ready.clear()
            self.scheduled.clear()
            self.in_flight.clear()
            self.stats.clear()
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self._stop = True
            self.cond.notify_all()
        self.executor.shutdown(wait=False, cancel_futures=True)
