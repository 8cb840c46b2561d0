"""The quota reservation and the counting (billing/quota.py) against PostgreSQL: separate
connections where concurrency matters, periods by the `now` they are given."""

from __future__ import annotations

import datetime
import threading
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection, connections, transaction

from billing.models import Plan, PortalPlan, QuotaNotice, QuotaReservation, UsageCredit, UsageRecord
from billing.quota import QUOTA_EXCEEDED, QuotaExceeded, quota_reserve, usage_count
from billing.services import current_period, portal_plan, usage_periods, usage_summary
from integrations.models import HubSpotInstallation
from sync.finish import run_fail
from sync.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOVEMBER = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=STOCKHOLM)
DECEMBER = datetime.datetime(2026, 12, 1, 0, 30, tzinfo=STOCKHOLM)


@pytest.fixture
def installation():
    return HubSpotInstallation.objects.create(hub_id=9101)


def plan_of(installation, quota: int) -> Plan:
    plan = Plan.objects.create(code=f"q{quota}", name=f"Quota {quota}", monthly_quota=quota)
    PortalPlan.objects.update_or_create(installation=installation, defaults={"plan": plan})
    return plan


def a_run(installation, deal: str, **fields) -> Run:
    defaults = {
        "subject_id": deal,
        "kind": "invoice",
        "trigger": "stage",
        "trigger_key": "stage:default:closedwon",
        "status": "running",
    }
    return Run.objects.create(installation=installation, **{**defaults, **fields})


def succeed(run: Run, number: str, now=None) -> dict:
    """What the success transaction does for billing (sync/finish.py run_succeed)."""
    run.fortnox_document_number = number
    run.save(update_fields=["fortnox_document_number"])
    with transaction.atomic():
        return usage_count(run, tenant="1", now=now)


def test_the_default_plans_are_free_standard_and_pro_with_free_the_default(installation):
    # The data migration's function itself: a transactional test empties the tables.
    Plan.objects.all().delete()
    import_module("billing.migrations.0002_default_plans").plans_create(apps, None)
    plans = {
        p.code: (p.name, p.monthly_quota, p.is_default, p.currency) for p in Plan.objects.all()
    }
    assert plans == {
        "free": ("Free", 10, True, "SEK"),
        "standard": ("Standard", 200, False, "SEK"),
        "pro": ("Pro", 2000, False, "SEK"),
    }
    assert portal_plan(installation).code == "free"


def test_periods_are_calendar_months_in_stockholm():
    # 23:30 UTC on 30 November is already 1 December in Stockholm.
    late = datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC)
    assert current_period(late) == datetime.date(2026, 12, 1)
    assert current_period(NOVEMBER) == datetime.date(2026, 11, 1)


def test_forty_concurrent_callers_against_a_quota_of_25_get_exactly_25(installation):
    plan_of(installation, 25)
    runs = [a_run(installation, str(1000 + i)) for i in range(40)]
    barrier = threading.Barrier(40)
    results: list[str] = []
    lock = threading.Lock()

    def caller(run: Run) -> None:
        try:
            barrier.wait(timeout=30)
            try:
                quota_reserve(run)
                outcome = "reserved"
            except QuotaExceeded as exc:
                outcome = exc.code
            with lock:
                results.append(outcome)
        finally:
            connections["default"].close()  # each thread had its own connection

    threads = [threading.Thread(target=caller, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert results.count("reserved") == 25
    assert results.count(QUOTA_EXCEEDED) == 15
    assert QuotaReservation.objects.filter(installation=installation).count() == 25
    summary = usage_summary(installation, current_period())
    assert (summary.used, summary.reserved, summary.quota) == (0, 25, 25)


def test_a_retried_run_keeps_its_reservation_and_a_replay_never_counts_twice(installation):
    plan_of(installation, 5)
    run = a_run(installation, "501")
    first = quota_reserve(run, now=NOVEMBER)
    for _retry in range(3):  # the task retries the run: it keeps the unit it holds
        assert quota_reserve(run, now=NOVEMBER).pk == first.pk
    assert QuotaReservation.objects.count() == 1

    succeed(run, "77", now=NOVEMBER)
    succeed(run, "77", now=NOVEMBER)  # a second success transaction (a re-delivered task)
    # Replays of the run adopting the same Fortnox document: never counted again.
    for replay_number in range(2):
        replay = a_run(
            installation,
            "501",
            replay_of=run,
            trigger="replay",
            trigger_key=f"replay:{replay_number}",
        )
        quota_reserve(replay, now=NOVEMBER)
        succeed(replay, "77", now=NOVEMBER)

    assert UsageRecord.objects.filter(installation=installation).count() == 1
    assert QuotaReservation.objects.count() == 0  # each reservation turned into usage or back
    assert usage_summary(installation, datetime.date(2026, 11, 1)).used == 1


def test_a_failed_run_counts_nothing_and_gives_its_reservation_back(installation):
    plan_of(installation, 1)
    run = a_run(installation, "502")
    quota_reserve(run, now=NOVEMBER)
    with pytest.raises(QuotaExceeded):
        quota_reserve(a_run(installation, "503"), now=NOVEMBER)

    run_fail(run.pk, "Fortnox said no.", "Fix it.", code="2000", reachable=False)

    assert QuotaReservation.objects.count() == 0
    assert UsageRecord.objects.count() == 0
    quota_reserve(a_run(installation, "504"), now=NOVEMBER)  # the unit is free again


def test_over_the_quota_the_run_fails_saying_when_it_resets_and_how_to_upgrade(installation):
    plan_of(installation, 1)
    succeed(a_run(installation, "505"), "1", now=NOVEMBER)

    with pytest.raises(QuotaExceeded) as raised:
        quota_reserve(a_run(installation, "506"), now=NOVEMBER)

    failure = raised.value
    assert failure.code == "quota_exceeded"
    assert "quota of 1 documents a month (plan Quota 1) is used up" in failure.message
    assert "resets on 1 December 2026" in failure.message
    assert "Upgrade the plan on the Usage tab" in failure.fix


def test_the_month_rolls_over_and_the_quota_resets(installation):
    plan_of(installation, 2)
    for deal, number in (("601", "10"), ("602", "11")):
        run = a_run(installation, deal)
        quota_reserve(run, now=NOVEMBER)
        succeed(run, number, now=NOVEMBER)
    with pytest.raises(QuotaExceeded):
        quota_reserve(a_run(installation, "603"), now=NOVEMBER)

    december = a_run(installation, "604")
    quota_reserve(december, now=DECEMBER)
    succeed(december, "12", now=DECEMBER)

    assert usage_summary(installation, datetime.date(2026, 11, 1)).used == 2
    assert usage_summary(installation, datetime.date(2026, 12, 1)).used == 1
    assert usage_periods(installation) == [datetime.date(2026, 12, 1), datetime.date(2026, 11, 1)]


def test_the_notices_at_80_and_100_percent_come_once_each_with_the_deal_that_crossed(
    installation,
):
    plan_of(installation, 5)
    notices = []
    for i in range(5):
        run = a_run(installation, str(700 + i))
        quota_reserve(run, now=NOVEMBER)
        notices.append(succeed(run, str(20 + i), now=NOVEMBER))

    assert [n.get("percent") for n in notices] == [None, None, None, 80, 100]
    assert notices[3]["used"] == 4 and notices[3]["quota"] == 5
    assert notices[4]["resets_at"] == "2026-12-01"
    assert sorted(QuotaNotice.objects.values_list("percent", "deal_id")) == [
        (80, "703"),
        (100, "704"),
    ]


def test_a_credit_lowers_the_count_and_frees_a_unit(installation):
    plan_of(installation, 1)
    run = a_run(installation, "801")
    quota_reserve(run, now=NOVEMBER)
    succeed(run, "30", now=NOVEMBER)
    UsageCredit.objects.create(
        usage=UsageRecord.objects.get(run=run), reason="Test invoice", credited_by="staff"
    )

    summary = usage_summary(installation, datetime.date(2026, 11, 1))
    assert (summary.used, summary.credited) == (0, 1)
    assert summary.records[0].credit.reason == "Test invoice"
    quota_reserve(a_run(installation, "802"), now=NOVEMBER)


def test_syncs_and_runs_without_a_document_are_not_counted(installation):
    sync = a_run(installation, "901", kind="customer_sync", subject_type="company")
    with transaction.atomic():
        usage_count(sync, tenant="1")
    assert UsageRecord.objects.count() == 0
    assert connection.vendor == "postgresql"
