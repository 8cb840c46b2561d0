"""Fair dispatch of runs: one busy portal never holds every worker.

Fortnox paces each company (integrations/ratelimit.py), so a worker running a busy portal's
tenth run at once would only sleep on that portal's rate limit while other portals' runs wait
behind it in the queue. Instead, at most SYNC_RUNS_PER_PORTAL runs of one HubSpot portal execute
at a time; a task that finds its portal's slots taken marks the run as waiting and frees the
worker. Each attempt that ends hands its slot to the portal's oldest waiting run.

The database is the source of truth, not the broker: slots are leases on the runs themselves
(decided under a lock on the portal's installation row), so a lost task or a dead worker loses
nothing. `runs_sweep` (every minute, from beat) sends again what is overdue: a run whose task never
arrived, a waiting run whose hand-off was lost, a run whose worker died mid-attempt. Sending a task
twice is safe: an attempt starts only on a queued run, or on a running one whose lease ran out.

Deal runs first (issue 15): the runs of a bulk sync (trigger bulk, sync/bulk.py) are created
waiting, never sent to the broker en masse. A hand-off gives free slots to the other runs first,
oldest first, and to at most one bulk run at a time; a bulk run's task that finds another bulk
run under way or on its way, or other runs waiting, waits again. So a bulk sync uses at most one
of the portal's slots, and a deal closed during an import of 2,000 records waits at most for
the one bulk record under way (its Fortnox pace is yielded too: integrations/ratelimit.py).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.models import HubSpotInstallation
from sync.document import external_reference
from sync.models import Run

logger = logging.getLogger(__name__)

# The task that executes a run (sync/tasks.py), sent by name: the tasks module imports this one.
RUN_TASK = "sync.tasks.run_execute_task"
# A run whose task has not started this long after it was sent is taken for lost and sent again.
OVERDUE = timedelta(minutes=10)
# Transient failures (429 storms, Fortnox or HubSpot outages) are retried with growing delays and
# jitter: 15 s (SYNC_RETRY_BASE_S), 30 s, 1 min, 2 min, 4 min, then every 5 min, about 40 minutes
# in all. Counted by the run's attempts, so waiting for a slot in between does not start the
# count again.
MAX_ATTEMPTS = 13
RETRY_CAP_S = 300


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt, after `attempts` failed ones."""
    delay = min(RETRY_CAP_S, settings.SYNC_RETRY_BASE_S * 2 ** (attempts - 1))
    return delay * random.uniform(0.8, 1.2)


def _lease() -> timedelta:
    # How long an attempt holds its run. Its calls end ATTEMPT_MARGIN before (sync/execute.py,
    # integrations/deadline.py), whatever the worker pool; past it the worker is taken for lost.
    return timedelta(seconds=settings.SYNC_ATTEMPT_LEASE_S)


def runs_send(run_ids: list[int]) -> None:
    """Send each run's task once the current transaction commits (at once outside one)."""
    if not run_ids:
        return
    # ignore_result: nobody waits for a run task's result; without it Celery subscribes the sender
    # to a Redis channel per task (the result backend's on_task_call), a round trip on the
    # webhook's answer and a subscription the web process keeps.
    transaction.on_commit(
        lambda: [current_app.send_task(RUN_TASK, args=[pk], ignore_result=True) for pk in run_ids]
    )


def _lock_portal(installation_id: int) -> None:
    """Serialises slot decisions of one portal (a no-op lock on SQLite, whose write
    transactions are serial anyway)."""
    list(HubSpotInstallation.objects.select_for_update().filter(pk=installation_id).values("pk"))


def _busy(installation_id: int, now: datetime):
    return Run.objects.filter(
        installation_id=installation_id, status=Run.Status.RUNNING, lease_until__gt=now
    )


def _waiting(installation_id: int):
    return Run.objects.filter(
        installation_id=installation_id, status=Run.Status.QUEUED, waiting_since__isnull=False
    )


def _bulk_under_way(installation_id: int, now: datetime, exclude: int | None = None) -> bool:
    """A bulk run of the portal holds the bulk slot: running, or sent a moment ago and not yet
    started (a task lost on the way stops counting after OVERDUE, when the sweep sends it
    again). A bulk run due for a retry later does not hold it."""
    running = _busy(installation_id, now).filter(trigger=Run.Trigger.BULK)
    sent = Run.objects.filter(
        installation_id=installation_id,
        trigger=Run.Trigger.BULK,
        status=Run.Status.QUEUED,
        waiting_since__isnull=True,
        dispatched_at__lte=now,
        dispatched_at__gt=now - OVERDUE,
    )
    if exclude is not None:
        running, sent = running.exclude(pk=exclude), sent.exclude(pk=exclude)
    return running.exists() or sent.exists()


def _hand_off(installation_id: int, now: datetime) -> list[int]:
    """Send the portal's oldest waiting runs, as many as it has free slots: the other runs
    first, then at most one bulk run when none is under way. Call under the portal's lock,
    inside a transaction."""
    free = settings.SYNC_RUNS_PER_PORTAL - _busy(installation_id, now).count()
    if free <= 0:
        return []
    waiting = _waiting(installation_id).order_by("created_at", "pk")
    ids = list(waiting.exclude(trigger=Run.Trigger.BULK).values_list("pk", flat=True)[:free])
    if len(ids) < free and not _bulk_under_way(installation_id, now):
        ids += list(waiting.filter(trigger=Run.Trigger.BULK).values_list("pk", flat=True)[:1])
    if ids:
        Run.objects.filter(pk__in=ids).update(waiting_since=None, dispatched_at=now)
        runs_send(ids)
    return ids


def _bulk_yields(installation_id: int, run: Run, now: datetime) -> bool:
    """A bulk run waits while another bulk run is under way or other runs wait for a slot."""
    return (
        _bulk_under_way(installation_id, now, exclude=run.pk)
        or _waiting(installation_id).exclude(trigger=Run.Trigger.BULK).exists()
    )


def runs_create_waiting(runs: list[Run]) -> int:
    """Store a bulk sync's runs waiting for a slot (not sent), skipping any that a live run
    already covers (the unique constraint), and hand free slots on; returns how many were
    created. Call inside the caller's transaction: the runs and whatever the caller records
    with them commit together."""
    if not runs:
        return 0
    now = timezone.now()
    installation_id = runs[0].installation_id
    _lock_portal(installation_id)
    keys = {(r.subject_type, r.subject_id, r.kind, r.trigger_key) for r in runs}
    before = _covered(installation_id, keys)
    for run in runs:
        run.waiting_since = now
        run.dispatched_at = now
    # ON CONFLICT DO NOTHING: a run a live one covers (a resumed page) is skipped, not an error.
    Run.objects.bulk_create(runs, ignore_conflicts=True)
    created = _covered(installation_id, keys) - before
    _hand_off(installation_id, now)
    return created


def _covered(installation_id: int, keys: set[tuple[str, str, str, str]]) -> int:
    trigger_keys = {k[3] for k in keys}
    subject_ids = {k[1] for k in keys}
    return sum(
        1
        for row in Run.objects.filter(
            installation_id=installation_id,
            trigger_key__in=trigger_keys,
            subject_id__in=subject_ids,
        ).values_list("subject_type", "subject_id", "kind", "trigger_key")
        if row in keys
    )


def attempt_start(run_id: int) -> Run | None:
    """Start an attempt of the run if its portal has a free slot. None when there is nothing to
    do now: the run is finished, another worker holds it, or it waits for a slot."""
    installation_id = (
        Run.objects.filter(pk=run_id).values_list("installation_id", flat=True).first()
    )
    if installation_id is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        _lock_portal(installation_id)
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.is_finished:
            return None
        if run.status == Run.Status.RUNNING and run.lease_until and run.lease_until > now:
            return None  # a second task for a run under way: the first one finishes it
        if _busy(installation_id, now).exclude(pk=run.pk).count() >= (
            settings.SYNC_RUNS_PER_PORTAL
        ) or (run.trigger == Run.Trigger.BULK and _bulk_yields(installation_id, run, now)):
            run.status = Run.Status.QUEUED
            run.waiting_since = run.waiting_since or now
            run.lease_until = None
            run.save(update_fields=["status", "waiting_since", "lease_until"])
            return None
        run.status = Run.Status.RUNNING
        run.attempts += 1
        run.started_at = run.started_at or now
        run.lease_until = now + _lease()
        run.waiting_since = None
        if not run.external_reference:
            run.external_reference = external_reference(run.pk)
        run.save()
        return run


def attempt_end(run: Run) -> None:
    """The attempt is over: free its slot and hand it on. A run left running (a transient
    failure) goes back to the queue, due again after `retry_delay`; the task reads when."""
    now = timezone.now()
    if run.lease_until is not None and now > run.lease_until:
        # Every HubSpot and Fortnox call stops at the deadline, but nothing ends a thread stuck
        # elsewhere (a database lock, a slow PDF): the threads pool has no time limits.
        logger.warning("attempt outlived its lease", extra={"run": run.pk, "attempt": run.attempts})
    with transaction.atomic():
        _lock_portal(run.installation_id)
        # Only while this attempt is the run's latest: one that outlived its lease must not free
        # or queue again the run a later attempt (another worker's) now holds.
        mine = Run.objects.filter(pk=run.pk, attempts=run.attempts)
        mine.update(lease_until=None)
        mine.filter(status=Run.Status.RUNNING).update(
            status=Run.Status.QUEUED,
            dispatched_at=now + timedelta(seconds=retry_delay(run.attempts)),
        )
        _hand_off(run.installation_id, now)


def runs_sweep(now: datetime | None = None) -> dict[str, int]:
    """Send again what is overdue; returns how many runs of each kind were sent."""
    now = now or timezone.now()
    sent = {"lost_tasks": 0, "lost_workers": 0, "waiting": 0}
    with transaction.atomic():
        lost = list(
            Run.objects.filter(
                status=Run.Status.QUEUED,
                waiting_since__isnull=True,
                dispatched_at__lt=now - OVERDUE,
            ).values_list("pk", flat=True)[:1000]
        )
        Run.objects.filter(pk__in=lost).update(dispatched_at=now)
        runs_send(lost)
        sent["lost_tasks"] = len(lost)
        dead = list(
            Run.objects.filter(status=Run.Status.RUNNING, lease_until__lt=now).values_list(
                "pk", flat=True
            )[:1000]
        )
        Run.objects.filter(pk__in=dead, status=Run.Status.RUNNING).update(
            status=Run.Status.QUEUED, lease_until=None, dispatched_at=now
        )
        runs_send(dead)
        sent["lost_workers"] = len(dead)
    portals = list(
        Run.objects.filter(status=Run.Status.QUEUED, waiting_since__isnull=False)
        .values_list("installation_id", flat=True)
        .distinct()
    )
    for installation_id in portals:
        with transaction.atomic():
            _lock_portal(installation_id)
            sent["waiting"] += len(_hand_off(installation_id, now))
    if any(sent.values()):
        logger.warning("runs sent again", extra=sent)
    return sent
