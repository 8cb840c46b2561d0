"""Celery entry points of the sync: they take a run, delivery or bulk sync id, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from integrations.errors import IntegrationError
from sync.bulk import bulk_sync_advance, bulk_sync_count, bulk_sync_run_ended, bulk_syncs_sweep
from sync.deliveries import deliveries_sweep, delivery_send
from sync.dispatch import MAX_ATTEMPTS, runs_sweep
from sync.execute import run_execute
from sync.figures import figures_nightly_one, nightly_installation_ids
from sync.finish import portal_language, run_fail
from sync.models import Run
from sync.privacy import personal_data_scrub_expired
from sync.privacy_uninstall import (
    hubspot_quiet_installations_check,
    personal_data_scrub_uninstalled,
)
from sync.webhooks import webhook_events_decide, webhook_events_sweep


@shared_task(bind=True, max_retries=None, acks_late=True)
def run_execute_task(self, run_id: int) -> str:
    try:
        run = run_execute(run_id)
        bulk_sync_run_ended(run)
        return run.status
    except IntegrationError as exc:  # transient: the run is queued again, due at dispatched_at
        run = Run.objects.get(pk=run_id)
        if run.attempts >= MAX_ATTEMPTS:
            # exc's own words were made in the portal's language by the attempt (sync/execute.py).
            with translation.override(portal_language(run.installation)):
                run_fail(
                    run_id,
                    _("%(problem)s The app tried %(attempts)s times over about 40 minutes.")
                    % {"problem": exc.message, "attempts": run.attempts},
                    exc.fix or _("Replay when the service is back."),
                    code=exc.code,
                    service_message=exc.service_message,
                )
            bulk_sync_run_ended(Run.objects.get(pk=run_id))
            return "failed"
        countdown = max(0.0, (run.dispatched_at - timezone.now()).total_seconds())
        raise self.retry(countdown=countdown) from exc


@shared_task
def runs_sweep_task() -> dict[str, int]:
    """Every minute (beat): send again the runs whose task or worker was lost."""
    return runs_sweep()


@shared_task(acks_late=True, ignore_result=True)
def webhook_events_decide_task(hub_id: int) -> int:
    """Sent by the webhook receiver after it stored a portal's events: decide them (what they
    start, skip or erase), in order. Safe to run twice or at once: sync/webhooks.py."""
    return webhook_events_decide(hub_id)


@shared_task
def webhook_events_sweep_task() -> dict[str, int]:
    """Every minute (beat): send again the portals whose events a lost publish or a dead worker
    left undecided."""
    return webhook_events_sweep()


@shared_task
def personal_data_scrub_task() -> dict[str, int]:
    """Daily (beat): find portals that uninstalled the app quietly, then scrub the personal data
    of runs and events past their retention and of portals uninstalled longer than the grace
    period (sync/privacy.py). A pass is bounded; while a backlog remains the task sends itself
    again."""
    now = timezone.now()
    result = (
        hubspot_quiet_installations_check(now)
        + personal_data_scrub_uninstalled(now)
        + personal_data_scrub_expired(now)
    )
    if result.more:
        personal_data_scrub_task.apply_async()
    return result.as_dict()


@shared_task(bind=True, max_retries=None, acks_late=True)
def delivery_send_task(self, delivery_id: int) -> None:
    """One attempt of a delivery (sync/deliveries.py); the next one after the backoff."""
    countdown = delivery_send(delivery_id)
    if countdown is not None:
        raise self.retry(countdown=countdown)


@shared_task
def deliveries_sweep_task() -> dict[str, int]:
    """Every minute (beat): send again the deliveries whose task or worker was lost."""
    return deliveries_sweep()


@shared_task(bind=True, max_retries=5, acks_late=True)
def bulk_count_task(self, bulk_id: int) -> str:
    """Count a bulk sync's records (sync/bulk.py); HubSpot unavailable: again in a while."""
    try:
        return bulk_sync_count(bulk_id)
    except IntegrationError as exc:
        raise self.retry(countdown=30) from exc


@shared_task(acks_late=True)
def bulk_sync_task(bulk_id: int) -> str:
    """Page through a bulk sync's scope for a while, queueing its runs; while pages remain the
    task sends itself again. A worker lost mid-way is replaced by the sweep (heartbeat)."""
    outcome = bulk_sync_advance(bulk_id)
    if outcome == "more":
        bulk_sync_task.apply_async(args=[bulk_id])
    return outcome


@shared_task
def bulk_syncs_sweep_task() -> dict[str, int]:
    """Every minute (beat): resume bulk syncs whose worker died, close finished ones."""
    return bulk_syncs_sweep()


@shared_task
def figures_nightly_task() -> int:
    """Nightly (beat, 02:30 Swedish time): one refresh task per active portal with a Fortnox
    connection (sync/figures.py), so a slow or failing Fortnox company holds up no other."""
    ids = nightly_installation_ids()
    for installation_id in ids:
        figures_nightly_portal_task.delay(installation_id)
    return len(ids)


# A first refresh reads every mapped customer at the bulk share of the pace (2 calls/s): longer
# than the default limits allow.
@shared_task(acks_late=True, soft_time_limit=3600, time_limit=3700)
def figures_nightly_portal_task(installation_id: int) -> str:
    """One portal's nightly figures refresh: its Fortnox company's changed invoices and orders
    → the customers' figures on their contacts and companies, the deals' payment status. A
    failure is recorded in its FiguresRefresh (and logged), not retried until the next night."""
    return figures_nightly_one(installation_id)
