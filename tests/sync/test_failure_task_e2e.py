"""The failure task (SyncSettings.failure_task): a failed run also gives the deal's owner a
HubSpot task saying what failed and what to change, in the portal's language, exactly once.
Read back from the HubSpot sandbox as a user would see it on the deal."""

from __future__ import annotations

import pytest

from sync.models import Delivery
from tests.flows import Portal, visible_text
from tests.sync.test_runs_e2e import configure, note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

OWNER = "501"  # the sandbox portal's user (sandbox/hubspot/README.md, "The app and the portals")


def _tasks(portal: Portal, deal_id: str) -> list[dict]:
    deal = portal.record("deals", deal_id)
    ids = [str(a) for a in (deal.get("associations") or {}).get("tasks", [])]
    return [portal.record("tasks", task_id) for task_id in ids]


def _failing_deal(portal: Portal, **deal_options) -> str:
    """A deal whose SKU is no Fortnox article: with the default policy (skip), the run fails."""
    return portal.deal(
        [{"name": "Widget", "quantity": "1", "price": "100", "hs_sku": "WIDGET"}], **deal_options
    )


def test_a_failed_run_gives_the_deal_owner_a_task_in_swedish(world, celery_worker_process):
    portal = portal_ready(world)
    configure(portal, failure_task=True, language="sv")
    deal = _failing_deal(portal, extra={"hubspot_owner_id": OWNER})

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "failed"
    [task] = _tasks(portal, deal)
    properties = task["properties"]
    assert properties["hs_task_subject"] == (
        "Fortnox-faktura skapades inte: rätta affären och kör igen"
    )
    assert properties["hubspot_owner_id"] == OWNER
    assert properties["hs_task_status"] == "NOT_STARTED"
    body = visible_text(properties["hs_task_body"])
    assert body.startswith("Ingen Fortnox-faktura skapades för den här affären.")
    assert "WIDGET" in body and "Vad som gick fel:" in body and "Det här behöver ändras:" in body
    assert f"Fortnox för HubSpot · körning {run.pk}" in body
    assert "ingen ägare" not in body
    # The note on the deal is Swedish too.
    assert note_text(portal, deal).startswith("Ingen Fortnox-faktura skapades.")


def test_a_deal_without_an_owner_gets_one_unassigned_task_though_the_answer_was_lost(
    world, celery_worker_process
):
    portal = portal_ready(world)
    configure(portal, failure_task=True)  # the fixture's portal writes English
    deal = _failing_deal(portal)
    # HubSpot stores the task but the answer never reaches the app: the retry must find it.
    world.hubspot_admin(
        "POST",
        "/_sandbox/faults/commit-then-drop",
        json={"count": 1, "method": "POST", "path_prefix": "/crm/v3/objects/tasks"},
    )

    portal.move(deal)
    [run] = wait_for_runs(deal)

    [task] = _tasks(portal, deal)
    assert not task["properties"].get("hubspot_owner_id")
    body = visible_text(task["properties"]["hs_task_body"])
    assert "The deal has no owner, so this task is not assigned to anyone." in body
    assert task["properties"]["hs_task_subject"] == (
        "Fortnox invoice not created: fix the deal and Replay"
    )
    delivery = Delivery.objects.get(run=run, kind=Delivery.Kind.TASK)
    assert [a.outcome for a in delivery.attempt_log.all()] == ["retry", "adopted"]
    assert delivery.result["task_id"] == str(task["id"])


def test_without_the_setting_a_failed_run_leaves_a_note_and_no_task(world, celery_worker_process):
    portal = portal_ready(world)
    deal = _failing_deal(portal, extra={"hubspot_owner_id": OWNER})

    portal.move(deal)
    wait_for_runs(deal)

    assert note_text(portal, deal).startswith("No Fortnox invoice was created.")
    assert _tasks(portal, deal) == []
