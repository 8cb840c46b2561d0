"""The quota on the run path (issue 17): a reservation before the Fortnox create, usage with the
run's success, the reservation released with its failure.

- `quota_reserve(run)`: before Fortnox is asked to create the document, under the portal row's
  lock (a short transaction; no lock is held across the Fortnox call), counted (minus credited)
  plus reserved of the current period must stay under the quota; the run then holds one
  reservation. A retried run keeps the one it has. Over the quota: `QuotaExceeded`, a
  RunFailure, so the run fails with a note that says when the quota resets and how to upgrade.
- `usage_count(run, tenant)`: called in the transaction that marks a document run succeeded,
  after `usage_lock(run)` (one portal's documents are counted one at a time):
  one UsageRecord per run and per Fortnox document (the database's unique constraints decide,
  so a retry, a Replay or a document adopted after a lost answer never counts twice), the
  reservation deleted, and the 80 % / 100 % notice of the period when this document crossed it.
- `quota_release(run)`: in the transaction that marks the run failed.
"""

from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from billing.models import QuotaNotice, QuotaReservation, UsageRecord
from billing.services import (
    current_period,
    next_period,
    portal_plan,
    reserved_count,
    used_count,
)
from integrations.models import HubSpotInstallation
from sync.context import RunFailure

logger = logging.getLogger(__name__)

QUOTA_EXCEEDED = "quota_exceeded"
NOTICE_LEVELS = (80, 100)
DOCUMENT_KINDS = ("invoice", "order")


class QuotaExceeded(RunFailure):
    pass


def _date_text(day: datetime.date) -> str:
    return formats.date_format(day, "j F Y")


def quota_reserve(run, *, now: datetime.datetime | None = None) -> QuotaReservation:
    """Hold one unit of the portal's quota for `run` (kept if it already holds one), or raise
    QuotaExceeded. Separate connections calling this at once for the same portal are
    serialised by the lock on the portal's installation row."""
    with transaction.atomic():
        installation = HubSpotInstallation.objects.select_for_update().get(pk=run.installation_id)
        held = QuotaReservation.objects.filter(run_id=run.pk).first()
        if held is not None:
            return held
        period = current_period(now)
        plan = portal_plan(installation)
        used = used_count(installation, period)
        reserved = reserved_count(installation, period)
        if used + reserved >= plan.monthly_quota:
            logger.info(
                "quota exceeded",
                extra={"portal": installation.hub_id, "quota": plan.monthly_quota, "used": used},
            )
            raise QuotaExceeded(
                _(
                    "This portal's quota of %(quota)s documents a month (plan %(plan)s) is used "
                    "up for this month, so nothing was created in Fortnox and this run is not "
                    "counted. The quota resets on %(resets)s."
                )
                % {
                    "quota": plan.monthly_quota,
                    "plan": plan.name,
                    "resets": _date_text(next_period(period)),
                },
                _(
                    "Upgrade the plan on the Usage tab of the app's settings page, then Replay "
                    "this run; or Replay it after the quota resets."
                ),
                code=QUOTA_EXCEEDED,
            )
        return QuotaReservation.objects.create(
            installation=installation, run_id=run.pk, period=period
        )


def quota_release(run) -> int:
    """The run failed or was given up: its reservation goes back to the quota."""
    deleted, _counts = QuotaReservation.objects.filter(run_id=run.pk).delete()
    return deleted


def usage_lock(run) -> None:
    """Take the portal row's lock for counting `run` (call first in its success transaction,
    before the run's own row: the order sync/dispatch.py takes them in). Two documents counted
    at once would each miss the other's uncommitted usage record, so when the 24th and 25th of
    a quota of 25 succeeded together, both counted 24 and nobody got the 100 % notice (found by
    tests/billing/test_quota_pipeline_e2e.py with forty deals at once)."""
    list(
        HubSpotInstallation.objects.select_for_update().filter(pk=run.installation_id).values("pk")
    )


def usage_count(run, *, tenant: str, now: datetime.datetime | None = None) -> dict:
    """Count the succeeded document run `run` (call inside the success transaction). Returns the
    quota notice for its note ({} when this document crossed no line): percent, quota, used,
    plan, resets_at."""
    if run.kind not in DOCUMENT_KINDS or not run.fortnox_document_number:
        quota_release(run)
        return {}
    held = QuotaReservation.objects.filter(run_id=run.pk).first()
    period = held.period if held is not None else current_period(now)
    deal_name = ""
    if isinstance(run.data_read, dict):
        deal_name = str((run.data_read.get("deal") or {}).get("dealname") or "")[:255]
    try:
        with transaction.atomic():  # a savepoint: a conflict leaves the success transaction
            UsageRecord.objects.create(
                installation_id=run.installation_id,
                run_id=run.pk,
                period=period,
                kind=run.kind,
                fortnox_database_number=tenant or "",
                document_number=run.fortnox_document_number,
                deal_id=str(run.subject_id),
                deal_name=deal_name,
                total=run.total,
                currency=run.currency or "",
                counted_at=now or timezone.now(),
            )
    except IntegrityError:  # already counted (this run, or this Fortnox document)
        quota_release(run)
        return {}
    if held is not None:
        held.delete()
    return _notice_for(run, period)


def _notice_for(run, period: datetime.date) -> dict:
    installation = run.installation
    plan = portal_plan(installation)
    quota = plan.monthly_quota
    used = used_count(installation, period)
    crossed = 0
    for level in NOTICE_LEVELS:
        if quota > 0 and used * 100 < level * quota:
            continue
        _notice, created = QuotaNotice.objects.get_or_create(
            installation=installation,
            period=period,
            percent=level,
            defaults={"deal_id": str(run.subject_id)},
        )
        if created:
            crossed = level
    if not crossed:
        return {}
    return {
        "percent": crossed,
        "quota": quota,
        "used": used,
        "plan": plan.name,
        "resets_at": next_period(period).isoformat(),
    }
