"""Deal runs first (issue 15), the slot rules of sync/dispatch.py: a bulk sync's runs are stored
waiting, a hand-off gives free slots to the other runs first (oldest first) and to at most one
bulk run, and a bulk run's task that finds another bulk run under way, or other runs waiting,
waits again. Database only: inside the test's transaction no task reaches the broker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import HubSpotInstallation
from sync.dispatch import _hand_off, attempt_start, runs_create_waiting
from sync.models import Run, RunKind, SubjectType

pytestmark = pytest.mark.django_db


@pytest.fixture
def installation():
    return HubSpotInstallation.objects.create(hub_id=7001)


def bulk_runs(installation, ids: list[str], key: str = "bulk:1") -> int:
    return runs_create_waiting(
        [
            Run(
                installation=installation,
                subject_type=SubjectType.COMPANY,
                subject_id=i,
                kind=RunKind.CUSTOMER_SYNC,
                trigger=Run.Trigger.BULK,
                trigger_key=key,
            )
            for i in ids
        ]
    )


def waiting_deal(installation, deal: str, age_s: int) -> Run:
    return Run.objects.create(
        installation=installation,
        subject_id=deal,
        kind=RunKind.INVOICE,
        trigger=Run.Trigger.STAGE,
        trigger_key=f"stage:default:closedwon:{deal}",
        created_at=timezone.now() - timedelta(seconds=age_s),
        waiting_since=timezone.now(),
    )


def sent(installation) -> set[str]:
    """The runs handed a slot (sent, not waiting any more)."""
    return set(
        Run.objects.filter(
            installation=installation, status=Run.Status.QUEUED, waiting_since__isnull=True
        ).values_list("subject_id", flat=True)
    )


def test_a_bulk_syncs_runs_are_stored_waiting_and_one_is_sent(installation, settings):
    settings.SYNC_RUNS_PER_PORTAL = 3
    assert bulk_runs(installation, [str(i) for i in range(50)]) == 50
    assert len(sent(installation)) == 1
    # A page queued again (a resumed sync) creates nothing twice, and sends no second run.
    assert bulk_runs(installation, [str(i) for i in range(50)]) == 0
    assert Run.objects.filter(installation=installation).count() == 50
    assert len(sent(installation)) == 1


def test_free_slots_go_to_deal_runs_first_oldest_first_then_to_one_bulk_run(installation, settings):
    settings.SYNC_RUNS_PER_PORTAL = 3
    bulk_runs(installation, ["c1", "c2", "c3"])
    Run.objects.filter(installation=installation).update(waiting_since=timezone.now())
    for deal, age in (("d-new", 1), ("d-old", 60), ("d-mid", 30)):
        waiting_deal(installation, deal, age)

    handed = _hand_off(installation.pk, timezone.now())
    assert set(Run.objects.filter(pk__in=handed).values_list("subject_id", flat=True)) == {
        "d-old",
        "d-mid",
        "d-new",
    }
    # The three slots are the deal runs'; once they run, nothing is left for the bulk sync.
    now = timezone.now()
    Run.objects.filter(pk__in=handed).update(
        status=Run.Status.RUNNING, lease_until=now + timedelta(minutes=5)
    )
    assert _hand_off(installation.pk, now) == []
    # One deal run ends: its slot goes to one bulk run, never to more.
    Run.objects.filter(subject_id="d-old").update(status=Run.Status.SUCCEEDED, lease_until=None)
    Run.objects.filter(subject_id="d-mid").update(status=Run.Status.SUCCEEDED, lease_until=None)
    handed = _hand_off(installation.pk, now)
    assert Run.objects.get(pk__in=handed).trigger == Run.Trigger.BULK
    assert _hand_off(installation.pk, now) == []


def test_a_bulk_run_waits_while_another_runs_or_deal_runs_wait(installation, settings):
    settings.SYNC_RUNS_PER_PORTAL = 3
    bulk_runs(installation, ["c1", "c2"])
    first, second = Run.objects.filter(installation=installation).order_by("pk")
    assert attempt_start(first.pk) is not None  # the bulk run that was sent
    # The other bulk run's task arrives anyway (say, sent by the sweep): it waits.
    assert attempt_start(second.pk) is None
    second.refresh_from_db()
    assert second.waiting_since is not None and second.status == Run.Status.QUEUED
    # The first ends; a deal run waits for a slot: the bulk run still lets it go first.
    Run.objects.filter(pk=first.pk).update(status=Run.Status.SUCCEEDED, lease_until=None)
    waiting_deal(installation, "d1", 5)
    assert attempt_start(second.pk) is None
