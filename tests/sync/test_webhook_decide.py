"""Deciding stored webhook events after the answer (sync/webhooks.py): nothing acknowledged is
lost, nothing is decided twice, a portal's events are decided in the order they happened."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from sync.models import Run, WebhookEvent
from sync.webhooks import (
    DECIDE_BATCH,
    DECIDE_OVERDUE,
    DECIDE_TASK,
    webhook_events_decide,
    webhook_events_record,
    webhook_events_sweep,
)
from tests.sync.test_webhook_receiver import (  # noqa: F401 (portal: the fixture used below)
    decide,
    deliver,
    event,
    portal,
)

pytestmark = pytest.mark.usefixtures("portal")  # portal 555: closed won → invoice


def undecided() -> int:
    return WebhookEvent.objects.filter(outcome=WebhookEvent.UNDECIDED).count()


def test_a_delivery_whose_decide_task_is_lost_is_decided_by_the_sweep(
    client, django_capture_on_commit_callbacks
):
    """The process ends between the commit and the publish (or the broker drops the task): the
    events are stored, undecided; the sweep sends their portal again once they are overdue, and
    the task then starts the run the delivery asked for, once."""
    with django_capture_on_commit_callbacks(execute=False) as lost:
        assert deliver(client, [event(601), event(602, stage="contractsent")]).status_code == 204
    assert len(lost) == 1  # the publish that never happens
    assert undecided() == 2 and not Run.objects.exists()

    # A decide task may just be waiting behind others: not sent again before it is overdue.
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert webhook_events_sweep() == {"portals": 0}
    assert sent == []
    later = timezone.now() + DECIDE_OVERDUE + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert webhook_events_sweep(later) == {"portals": 1}
    assert len(sent) == 1

    assert decide() == 2  # what the task the sweep sent does
    run = Run.objects.get()
    assert (run.subject_id, run.status) == ("601", "queued")
    assert dict(WebhookEvent.objects.values_list("object_id", "outcome")) == {
        "601": f"triggered run {run.pk}",
        "602": "ignored: stage is not a trigger stage of an added pipeline",
    }
    # Decided now: the next sweep sends nothing, a late task decides nothing.
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert webhook_events_sweep(later) == {"portals": 0}
    assert sent == []
    assert decide() == 0
    assert Run.objects.count() == 1


def test_the_receiver_publishes_the_decide_task_by_name_without_a_result(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    """The publish names the task the worker runs (sync/tasks.py) and asks no result: a result
    would subscribe the web process to a Redis channel per delivery (sync/dispatch.py)."""
    from celery import current_app

    from sync import tasks

    sent = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, **kwargs: sent.append((name, kwargs))
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, [event(611)]).status_code == 204
    assert sent == [(DECIDE_TASK, {"args": [555], "ignore_result": True})]
    assert tasks.webhook_events_decide_task.name == DECIDE_TASK
    assert tasks.webhook_events_decide_task(555) == 1  # what the worker runs
    assert WebhookEvent.objects.get().outcome.startswith("triggered run")


def test_a_failed_publish_still_answers_2xx_and_the_events_wait_for_the_sweep(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    """The broker refuses the publish after the commit: HubSpot is answered 2xx (a retry would
    find every event stored and publish nothing), and the events wait, undecided, for the
    sweep."""
    from celery import current_app
    from kombu.exceptions import OperationalError

    def broker_down(name, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, [event(621)]).status_code == 204
    assert undecided() == 1
    later = timezone.now() + DECIDE_OVERDUE + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert webhook_events_sweep(later) == {"portals": 1}
    assert len(sent) == 1


def test_many_events_of_one_deal_are_decided_in_occurred_order_across_batches():
    """More events than one batch, stored newest first: the earliest move into the trigger
    stage starts the run, every later one is a duplicate of it."""
    events = [event(631, occurred=1_000 + n, event_id=n + 1) for n in range(DECIDE_BATCH + 20)]
    webhook_events_record(list(reversed(events)))
    assert decide() == DECIDE_BATCH + 20
    run = Run.objects.get()
    first, *later = WebhookEvent.objects.order_by("occurred_at_ms")
    assert (first.occurred_at_ms, first.outcome) == (1_000, f"triggered run {run.pk}")
    assert {e.outcome for e in later} == {f"duplicate: run {run.pk} covers this trigger"}


@pytest.mark.django_db(transaction=True)
def test_two_deciders_at_once_decide_each_event_once(monkeypatch):
    """Two workers decide the same portal at the same moment (the receiver's task and the
    sweep's, or a task delivered twice): every event is decided by exactly one of them, each
    trigger starts one run."""
    from celery import current_app

    # Only these two decide: the receiver's publishes (and the runs') go nowhere, so a worker
    # of the suite cannot join in.
    monkeypatch.setattr(current_app, "send_task", lambda name, **kwargs: None)
    deals = range(700, 700 + 2 * DECIDE_BATCH + 50)
    webhook_events_record([event(deal, event_id=deal) for deal in deals][:100])
    webhook_events_record([event(deal, event_id=deal) for deal in deals][100:])
    start = threading.Barrier(2)
    counts: list[int] = []
    failures: list[BaseException] = []

    def decider() -> None:
        try:
            start.wait()
            counts.append(webhook_events_decide(555))
        except BaseException as exc:  # noqa: BLE001 (reported by the test below)
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=decider) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert sum(counts) == len(deals)  # no event decided by both
    assert undecided() == 0
    runs = dict(Run.objects.values_list("subject_id", "pk"))
    assert sorted(runs) == sorted(str(deal) for deal in deals)
    outcomes = dict(WebhookEvent.objects.values_list("object_id", "outcome"))
    assert outcomes == {deal: f"triggered run {pk}" for deal, pk in runs.items()}


def test_an_event_that_cannot_be_decided_is_marked_and_holds_back_nothing(
    client, monkeypatch, caplog
):
    """A defect in deciding one event (here: deciding deal 701 raises) is recorded as that
    event's outcome and logged as an ERROR; the portal's later events are decided and start
    their run. Without this, the batch would roll back every minute and the portal's webhooks
    would stop for good, since HubSpot, told 2xx, never sends them again."""
    from sync import webhooks

    real = webhooks._decide

    def deciding(parsed, installation):
        if parsed.object_id == "701":
            raise ValueError("a defect")
        return real(parsed, installation)

    monkeypatch.setattr(webhooks, "_decide", deciding)
    deliver(client, [event(701, event_id=71), event(702, occurred=1_764_000_000_500, event_id=72)])
    with caplog.at_level("ERROR", logger="sync.webhooks"):
        assert decide() == 2
    outcomes = dict(WebhookEvent.objects.values_list("object_id", "outcome"))
    assert outcomes["701"] == "error: could not be decided (ValueError); see the logs"
    run = Run.objects.get()
    assert run.subject_id == "702" and outcomes["702"] == f"triggered run {run.pk}"
    assert any(r.getMessage() == "webhook event could not be decided" for r in caplog.records)
    assert undecided() == 0 and decide() == 0
