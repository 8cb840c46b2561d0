"""What billing offers the rest of the service (issue 17): periods, a portal's plan, its usage.

Periods are calendar months in Europe/Stockholm, named by their first day, so a reinstall (the
installation row is kept per hub id) does not reset a quota, and a plan change takes effect at
once. "Used" is what was counted minus what staff credited; "reserved" is what runs hold between
their quota check and their outcome (billing/quota.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.utils import timezone

from billing.models import Plan, PortalPlan, QuotaReservation, UsageRecord
from integrations.models import HubSpotInstallation

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def current_period(now: datetime.datetime | None = None) -> datetime.date:
    """The first day of the month of `now` (default: the present) in Europe/Stockholm."""
    now = now or timezone.now()
    local = now.astimezone(STOCKHOLM) if timezone.is_aware(now) else now
    return local.date().replace(day=1)


def next_period(period: datetime.date) -> datetime.date:
    """The first day of the month after `period`: when its quota resets."""
    if period.month == 12:
        return datetime.date(period.year + 1, 1, 1)
    return datetime.date(period.year, period.month + 1, 1)


def default_plan() -> Plan:
    plan = Plan.objects.filter(is_default=True, active=True).order_by("monthly_quota").first()
    if plan is None:
        plan = Plan.objects.filter(is_default=True).first()
    if plan is None:  # the data migration creates one; a deleted default should not break runs
        plan, _ = Plan.objects.get_or_create(
            code="free", defaults={"name": "Free", "monthly_quota": 10, "is_default": True}
        )
    return plan


def portal_plan(installation: HubSpotInstallation) -> Plan:
    """The portal's plan, else the default plan."""
    chosen = PortalPlan.objects.filter(installation=installation).select_related("plan").first()
    return chosen.plan if chosen is not None else default_plan()


def used_count(installation: HubSpotInstallation, period: datetime.date) -> int:
    """Documents counted in the period minus those staff credited."""
    return UsageRecord.objects.filter(
        installation=installation, period=period, credit__isnull=True
    ).count()


def reserved_count(installation: HubSpotInstallation, period: datetime.date) -> int:
    return QuotaReservation.objects.filter(installation=installation, period=period).count()


@dataclass
class UsageSummary:
    plan: Plan
    quota: int
    used: int
    reserved: int
    percent: int
    period_start: datetime.date
    resets_at: datetime.date
    credited: int = 0
    records: list[UsageRecord] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return max(self.quota - self.used - self.reserved, 0)

    @property
    def exhausted(self) -> bool:
        return self.used + self.reserved >= self.quota


def percent_of(used: int, quota: int) -> int:
    if quota <= 0:
        return 100
    return min(int(used * 100 // quota), 100)


def usage_summary(
    installation: HubSpotInstallation, period: datetime.date | None = None
) -> UsageSummary:
    """The period's usage against the portal's current plan. `records` are the period's counted
    documents, newest first, each with `credit` (a UsageCredit or None) loaded."""
    period = period or current_period()
    plan = portal_plan(installation)
    records = list(
        UsageRecord.objects.filter(installation=installation, period=period)
        .select_related("credit", "run")
        .order_by("-counted_at", "-id")
    )
    credited = sum(1 for record in records if _credit_of(record) is not None)
    used = len(records) - credited
    return UsageSummary(
        plan=plan,
        quota=plan.monthly_quota,
        used=used,
        reserved=reserved_count(installation, period),
        percent=percent_of(used, plan.monthly_quota),
        period_start=period,
        resets_at=next_period(period),
        credited=credited,
        records=records,
    )


def _credit_of(record: UsageRecord):
    try:
        return record.credit
    except UsageRecord.credit.RelatedObjectDoesNotExist:
        return None


def usage_periods(installation: HubSpotInstallation) -> list[datetime.date]:
    """The periods with counted documents, newest first."""
    return list(
        UsageRecord.objects.filter(installation=installation)
        .order_by("-period")
        .values_list("period", flat=True)
        .distinct()
    )
