"""Sending a delivery: one attempt under a lease, the backoff, giving up with a reason, and
the minute sweep that sends again what was lost."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cloudify.logging import bind_run_id
from integrations.calls import CallRecord
from integrations.deadline import deadline
from integrations.errors import IntegrationError
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import records_update_batch
from integrations.hubspot.errors import HubSpotUninstalled
from sync.deliveries.batching import properties_companions_lease
from sync.deliveries.senders import SENDERS
from sync.deliveries.specs import deliveries_send, newer_deliveries, superseded_by
from sync.deliveries.state import Adopted, Attempt
from sync.models import Delivery, DeliveryAttempt

logger = logging.getLogger(__name__)


# Backoff: the base delay comes from settings (DELIVERY_RETRY_BASE_S, short in tests). Each
# countdown stays under the broker's visibility timeout (3600 s, cloudify/settings/celery.py):
# a Redis ETA task held longer than that is delivered twice.
RETRY_CAP_S = 30 * 60
# A day of tries, then give up: HubSpot keeps a BLOCKed workflow a week (hubspot-api.md §5),
# and its own webhook retries span 24 h; past a day the user has long moved on.
GIVE_UP_AFTER_S = 24 * 3600
# An attempt holds its delivery this long; past it the worker is taken for dead. Longer than a
# task may live (CELERY_TASK_TIME_LIMIT), so a live attempt never loses its lease.
LEASE_MARGIN_S = 60
# An attempt's calls end this long before its lease, leaving time to record the outcome.
ATTEMPT_MARGIN = timedelta(seconds=15)
# While an older delivery of the same record is mid-send, wait this long and look again.
ORDER_WAIT_S = 2.0
# The sweep sends again a pending delivery this long past due (its task was lost).
SWEEP_GRACE_S = 120
SWEEP_BATCH = 500
# A task may arrive this early for its due time (clocks of workers differ a little).
EARLY_TOLERANCE_S = 2.0


def delivery_send(delivery_id: int) -> float | None:
    """One attempt, under a lease. Returns seconds until the next attempt is due (the task
    retries with that countdown), or None when there is nothing more to do now (delivered,
    superseded, given up, or another worker holds it)."""
    leased = _lease(delivery_id)
    if not isinstance(leased, Delivery):
        return leased
    # Every call of the attempt ends before its lease does (integrations/deadline.py), so no
    # second worker taking the delivery over can find this one still sending.
    with bind_run_id(leased.run_id or "-"), deadline(leased.lease_until - ATTEMPT_MARGIN):
        return _attempt(leased)


def _lease(delivery_id: int) -> Delivery | float | None:
    """The delivery, now held by this attempt; or what delivery_send returns instead."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("installation")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return None
        if delivery.lease_until and delivery.lease_until > now:
            return None  # another worker is sending it
        if delivery.next_attempt_at > now + timedelta(seconds=EARLY_TOLERANCE_S):
            return None  # a task for the next attempt is already on its way
        if delivery.record_key:
            newer = newer_deliveries(
                delivery.installation_id, delivery.record_key, delivery.sequence
            ).first()
            if newer is not None:
                delivery.status = Delivery.Status.SUPERSEDED
                delivery.last_error = superseded_by(newer)
                delivery.save(update_fields=["status", "last_error"])
                DeliveryAttempt.objects.create(
                    delivery=delivery, outcome="superseded", error=delivery.last_error
                )
                return None
            older_in_flight = (
                Delivery.objects.filter(
                    installation_id=delivery.installation_id,
                    record_key=delivery.record_key,
                    lease_until__gt=now,
                )
                .filter(
                    Q(sequence__lt=delivery.sequence)
                    | Q(sequence=delivery.sequence, pk__lt=delivery.pk)
                )
                .exists()
            )
            if older_in_flight:
                # Land after it, not before: its values are older and must not win.
                delivery.next_attempt_at = now + timedelta(seconds=ORDER_WAIT_S)
                delivery.save(update_fields=["next_attempt_at"])
                return ORDER_WAIT_S
        if not delivery.installation.is_active:
            _give_up(
                delivery,
                f"The app is no longer installed in HubSpot portal "
                f"{delivery.installation.hub_id}, so nothing can be sent there.",
                Attempt(),
            )
            return None
        delivery.attempts += 1
        delivery.lease_until = now + timedelta(
            seconds=settings.CELERY_TASK_TIME_LIMIT + LEASE_MARGIN_S
        )
        delivery.save(update_fields=["attempts", "lease_until"])
    return delivery


def _attempt(delivery: Delivery) -> float | None:
    if delivery.kind == Delivery.Kind.PROPERTIES:
        companions = properties_companions_lease(delivery, delivery.lease_until)
        if companions:
            return _attempt_batch(delivery, companions)
    attempt = Attempt(delivery)
    hubspot = HubSpotClient(delivery.installation, observer=attempt)
    return _settle(delivery, attempt, lambda: SENDERS[delivery.kind](delivery, hubspot, attempt))


def _settle(
    delivery: Delivery, attempt: Attempt, send: Callable[[], dict[str, Any]]
) -> float | None:
    """Make the send and record what came of it: delivered, adopted, a retry or given up."""
    try:
        result = send()
    except Adopted as adopted:
        _delivered(delivery, adopted.result, attempt, outcome="adopted", note=adopted.why)
        return None
    except HubSpotUninstalled as exc:
        _give_up(delivery, f"{exc.message} {exc.fix}".strip(), attempt)
        return None
    except IntegrationError as exc:
        if exc.transient:
            return _retry_or_give_up(delivery, str(exc), attempt)
        _give_up(delivery, _permanent_reason(exc), attempt)
        return None
    except Exception as exc:  # a fault of ours or an SDK surprise: keep trying, say what it was
        logger.exception("delivery attempt failed unexpectedly", extra={"delivery": delivery.pk})
        return _retry_or_give_up(delivery, f"Unexpected error: {exc!r}", attempt)
    _delivered(delivery, result, attempt)
    return None


# A batch update refused as a whole with one of these (a bad input, a record HubSpot cannot
# find, if it answers so rather than with a 207) is sent again record by record; any other
# refusal (401, 403, 429, 5xx) would meet every record alike.
BATCH_REFUSALS_RESENT = (400, 404, 409, 422)


class _BatchObserver:
    """The batch call is a step of every run whose delivery it carried."""

    def __init__(self, attempts: list[Attempt]) -> None:
        self.attempts = attempts

    def __call__(self, call: CallRecord) -> None:
        for attempt in self.attempts:
            attempt(call)


def _attempt_batch(leader: Delivery, companions: list[Delivery]) -> float | None:
    """One batch update for the leader and its companions (sync/deliveries/batching.py), then
    each settled on its own: landed, given up with its own reason (a deleted deal), retried
    with its own backoff, or, when HubSpot's answer did not settle it, sent on its own."""
    deliveries = [leader, *companions]
    attempts = {d.pk: Attempt(d) for d in deliveries}
    object_type = leader.payload["object_type"]
    batch_client = HubSpotClient(
        leader.installation, observer=_BatchObserver(list(attempts.values()))
    )
    failure: Exception | None = None
    outcome = None
    try:
        outcome = records_update_batch(
            batch_client,
            object_type,
            {d.payload["object_id"]: d.payload["properties"] for d in deliveries},
        )
    except Exception as exc:  # settled per delivery below, as its own send would have been
        failure = exc
    logger.info(
        "record properties sent in one batch",
        extra={"portal": leader.installation.hub_id, "deliveries": [d.pk for d in deliveries]},
    )

    def send(delivery: Delivery) -> dict[str, Any]:
        object_id = delivery.payload["object_id"]
        whole_batch_refused = (
            isinstance(failure, IntegrationError) and failure.status in BATCH_REFUSALS_RESENT
        )
        if failure is not None and not whole_batch_refused:
            raise failure  # HubSpot down, limiting, uninstalled: the same for every record
        if outcome is not None and object_id in outcome.updated:
            return {
                "properties_set": sorted(delivery.payload["properties"]),
                "batch": len(deliveries),
            }
        if outcome is not None and object_id in outcome.failed:
            raise outcome.failed[object_id]
        # Refused as a whole (one bad input refuses them all) or not named in the answer: on
        # its own, so a bad input costs only itself.
        attempt = attempts[delivery.pk]
        hubspot = HubSpotClient(delivery.installation, observer=attempt)
        return SENDERS[delivery.kind](delivery, hubspot, attempt)

    leader_next = _settle(leader, attempts[leader.pk], lambda: send(leader))
    for companion in companions:
        countdown = _settle(companion, attempts[companion.pk], lambda c=companion: send(c))
        if countdown is not None:
            # Its own task may have come and gone while this attempt held it.
            deliveries_send([companion.pk], countdown=countdown)
    return leader_next


def _permanent_reason(exc: IntegrationError) -> str:
    said = f" ({exc.service} said: {exc.service_message})" if exc.service_message else ""
    return f"{exc.message}{said} {exc.fix}".strip()


def retry_delay_s(attempts: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, then between half and all of it."""
    base = float(settings.DELIVERY_RETRY_BASE_S)
    delay = min(RETRY_CAP_S, base * 2 ** max(0, attempts - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def _attempt_row(delivery: Delivery, outcome: str, attempt: Attempt, error: str = "") -> None:
    DeliveryAttempt.objects.create(
        delivery=delivery,
        outcome=outcome,
        status_code=attempt.status,
        error=error,
        duration_ms=attempt.duration_ms,
    )


def _delivered(
    delivery: Delivery,
    result: dict[str, Any],
    attempt: Attempt,
    *,
    outcome: str = "delivered",
    note: str = "",
) -> None:
    now = timezone.now()
    with transaction.atomic():
        # Delivered even if a newer one superseded it mid-send: it did land (before the newer
        # one, which waited for its lease).
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.DELIVERED,
            result=result,
            delivered_at=now,
            lease_until=None,
            outcome_unknown=False,
            last_error="",
        )
        _attempt_row(delivery, outcome, attempt, note)
    logger.info(
        "delivery delivered",
        extra=_log_fields(delivery),
    )


def _retry_or_give_up(delivery: Delivery, error: str, attempt: Attempt) -> float | None:
    now = timezone.now()
    if (now - delivery.created_at).total_seconds() >= GIVE_UP_AFTER_S:
        hours = GIVE_UP_AFTER_S // 3600
        _give_up(
            delivery,
            f"HubSpot did not take it for {hours} hours ({delivery.attempts} attempts). "
            f"Last error: {error}",
            attempt,
        )
        return None
    delay = retry_delay_s(delivery.attempts)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            lease_until=None, next_attempt_at=now + timedelta(seconds=delay)
        )
        # One superseded meanwhile keeps its reason; the attempt row still has this error.
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
            last_error=error[:2000]
        )
        _attempt_row(delivery, "retry", attempt, error)
    logger.warning(
        "delivery attempt failed; retrying",
        extra=_log_fields(delivery, retry_in_s=round(delay, 1), why=error),
    )
    return delay


def _log_fields(delivery: Delivery, **more: object) -> dict[str, object]:
    """The ids every log line of a delivery carries, and what this one adds."""
    return {
        "delivery": delivery.pk,
        "run": delivery.run_id,
        "portal": delivery.installation.hub_id,
        "kind": delivery.kind,
        "attempts": delivery.attempts,
        **more,
    }


def _give_up(delivery: Delivery, reason: str, attempt: Attempt) -> None:
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(lease_until=None)
        pending = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING)
        if not pending.update(
            status=Delivery.Status.GAVE_UP, gave_up_reason=reason, last_error=reason[:2000]
        ):
            # Superseded while this attempt was under way: the newer one carries the values.
            _attempt_row(delivery, "superseded", attempt, reason)
            return
        _attempt_row(delivery, "gave_up", attempt, reason)
    logger.error(
        "delivery gave up",
        extra=_log_fields(delivery, reason=reason),
    )


# -- the safety net ------------------------------------------------------------------------------
def deliveries_sweep() -> dict[str, int]:
    """Every minute (beat): send again the pending deliveries whose task was lost (due for
    SWEEP_GRACE_S and not leased) or whose worker died (the lease ran out)."""
    now = timezone.now()
    due = now - timedelta(seconds=SWEEP_GRACE_S)
    base = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=due)
    lost_tasks = list(
        base.filter(lease_until__isnull=True).values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    dead_workers = list(base.filter(lease_until__lt=now).values_list("pk", flat=True)[:SWEEP_BATCH])
    ids = lost_tasks + dead_workers
    if ids:
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now)
        deliveries_send(ids)
        logger.warning(
            "deliveries sent again by the sweep",
            extra={"lost_tasks": len(lost_tasks), "dead_workers": len(dead_workers)},
        )
    return {"lost_tasks": len(lost_tasks), "dead_workers": len(dead_workers)}
