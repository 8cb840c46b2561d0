"""Deliveries, end to end: what a run tells HubSpot (the note, the deal's properties, the
workflow callback) reaches it once, whatever HubSpot does meanwhile. The real worker sends them
to the HubSpot sandbox; the tests read what a user sees there: the notes and properties on the
deal, and the state of the waiting workflow."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone

from integrations.models import HubSpotInstallation
from notes.services import note_body, note_marker
from sandbox.hubspot.testing import Receiver
from sync.deliveries import (
    deliveries_create,
    deliveries_sweep,
    note_spec,
    properties_spec,
    workflow_callback_spec,
)
from sync.models import Delivery, DeliveryAttempt, Run
from tests.conftest import TEST_LOG_DIR
from tests.flows import Portal, visible_text
from tests.sync.test_runs_e2e import portal_ready

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_LOG = TEST_LOG_DIR / "worker.log"
# An outage longer than any test waits: the test ends it (DELETE /_sandbox/faults).
OUTAGE_S = 3600
# Delivery attempts each delivery has failed before HubSpot comes back.
RETRIES_IN_OUTAGE = 2
DONE = {"delivered", "superseded", "gave_up"}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


@pytest.fixture(scope="module")
def blocking_app():
    """Plays the app towards HubSpot's workflow engine: answers every action with BLOCK, so the
    workflow waits for its callback (as our service does while a run works)."""
    receiver = Receiver(answer=lambda r: (200, {"outputFields": {"hs_execution_state": "BLOCK"}}))
    receiver.start()
    yield receiver
    receiver.stop()


def _run(portal: Portal, deal: str, **fields) -> Run:
    return Run.objects.create(
        installation=HubSpotInstallation.objects.get(hub_id=portal.hub),
        subject_id=deal,
        kind="invoice",
        trigger="workflow",
        trigger_key=f"test:{time.monotonic_ns()}",
        **fields,
    )


def _failure_note(deal: str, run: Run, **pdf):
    return note_spec(
        "deals",
        deal,
        template="failure",
        data={
            "document_label": "invoice",
            "document_number": "",
            "message": "Fortnox cannot find the article.",
            "fix": "Create the article in Fortnox, then Replay.",
            "code": "2000428",
            "service_label": "Fortnox",
            "service_message": "Kan inte hitta artikeln",
            "replay_url": "https://app.example/replay/x",
            "run_id": run.pk,
            "trigger_label": "Workflow action",
        },
        marker=note_marker(run.pk),
        **pdf,
    )


def _success_note(deal: str, run: Run, pdf: dict | None):
    return note_spec(
        "deals",
        deal,
        template="success",
        data={
            "document_label": "invoice",
            "document_number": "1",
            "customer_name": "Kund AB",
            "customer_number": "1",
            "total": "1250.00",
            "total_vat": "250.00",
            "currency": "SEK",
            "row_count": 2,
            "created_articles": [],
            "placeholder_rows": [],
            "document_url": "https://apps.fortnox.se/app/1/kf/invoice/1",
            "run_id": run.pk,
            "trigger_label": "Deal stage",
        },
        marker=note_marker(run.pk),
        pdf=pdf,
    )


def _workflow_waiting(portal: Portal, deal: str, blocking_app: Receiver) -> str:
    """A workflow enrolled the deal and waits (BLOCK) on our action: its callback id."""
    hubspot = portal.world.hubspot
    definition = portal.world.hubspot_admin(
        "POST",
        "/automation/v4/actions/1001?hapikey=sandbox-developer-key",
        json={
            "actionUrl": f"{blocking_app.url}/action",
            "objectTypes": ["DEAL"],
            "inputFields": [],
            "labels": {"en": {"actionName": "Test action"}},
        },
    )
    execution = portal.world.hubspot_admin(
        "POST",
        "/_sandbox/workflows/execute",
        json={
            "portal": portal.hub,
            "definition_id": str(definition["id"]),
            "object_type": "DEAL",
            "object_id": deal,
        },
    )
    assert execution["state"] == "BLOCK", (hubspot, execution)
    return execution["callbackId"]


def _execution(portal: Portal, callback_id: str) -> dict:
    return portal.world.hubspot_admin("GET", f"/_sandbox/workflows/executions/{callback_id}")


def _wait(deliveries: list[Delivery], timeout: float) -> list[Delivery]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = [Delivery.objects.get(pk=d.pk) for d in deliveries]
        if all(d.status in DONE for d in current):
            return current
        time.sleep(0.2)
    states = [(d.pk, d.kind, d.status, d.attempts, d.last_error) for d in current]
    raise AssertionError(f"deliveries not finished after {timeout}s: {states}")


def _create(portal: Portal, specs, run: Run | None = None) -> list[Delivery]:
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    with transaction.atomic():  # as the run's final transaction does
        return deliveries_create(installation, specs, run=run)


def _note_texts(portal: Portal, deal: str) -> list[str]:
    return [visible_text(n["properties"]["hs_note_body"]) for n in portal.notes(deal)]


def _hubspot_calls(portal: Portal, method: str, path: str) -> list[dict]:
    """The calls the app made to exactly `path`, as HubSpot's side logged them."""
    log = portal.world.hubspot_admin(
        "GET", f"/_sandbox/requests?portal={portal.hub}&path_prefix={path}&method={method}"
    )
    return [entry for entry in log if entry["method"] == method and entry["path"] == path]


def _failed_run_effects(portal: Portal, deal: str, run: Run, callback_id: str):
    return [
        _failure_note(deal, run),
        properties_spec(
            "deals",
            deal,
            {"fortnox_status": "failed", "fortnox_document_type": "invoice"},
            sequence=run.pk,
        ),
        workflow_callback_spec(
            callback_id,
            {
                "hs_execution_state": "FAIL_CONTINUE",
                "fortnox_status": "failed",
                "fortnox_error": "Fortnox cannot find the article.",
            },
        ),
    ]


def _assert_failed_run_told_once(portal: Portal, deal: str, run: Run, callback_id: str) -> None:
    [note] = _note_texts(portal, deal)  # one note, never two
    assert "No Fortnox invoice was created." in note
    assert "What went wrong: Fortnox cannot find the article." in note
    assert f"Fortnox for HubSpot · run {run.pk} · Workflow action" in note
    properties = portal.record("deals", deal)["properties"]
    assert properties["fortnox_status"] == "failed"
    execution = _execution(portal, callback_id)
    assert execution["state"] == "FAIL_CONTINUE"
    assert execution["output_fields"]["fortnox_error"] == "Fortnox cannot find the article."


def _wait_for_retries(deliveries: list[Delivery], count: int, timeout: float) -> None:
    """Until every delivery has been refused `count` times (each attempt, after the HubSpot
    client's own repeats, ended in a 503 and a retry of the delivery)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        refused = [
            DeliveryAttempt.objects.filter(delivery=d, outcome="retry", status_code=503).count()
            for d in deliveries
        ]
        if min(refused) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"deliveries not retried {count} times in {timeout}s: {refused}")


def _wait_for_status(delivery: Delivery, status: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.status == status:
            return
        time.sleep(0.2)
    raise AssertionError(f"delivery {delivery.pk} is {delivery.status}, not {status}")


def test_a_failed_runs_note_properties_and_callback_survive_hubspot_down_a_long_while(
    portal, blocking_app
):
    deal = portal.deal([])
    callback_id = _workflow_waiting(portal, deal, blocking_app)
    run = _run(portal, deal, status="failed")
    # HubSpot is down until the test brings it back (rather than for a fixed minute): the
    # deliveries must outlast several of their own retries, each after the client's repeats.
    portal.world.hubspot_admin("POST", "/_sandbox/faults/outage", json={"seconds": OUTAGE_S})

    deliveries = _create(portal, _failed_run_effects(portal, deal, run, callback_id), run)

    # While HubSpot is down nothing lands and nothing is given up: the workflow still waits.
    _wait_for_retries(deliveries, count=RETRIES_IN_OUTAGE, timeout=120)
    assert _execution(portal, callback_id)["state"] == "BLOCK"
    assert all(d.status == "pending" for d in Delivery.objects.filter(run=run))
    assert _note_texts(portal, deal) == []
    portal.world.hubspot_admin("DELETE", "/_sandbox/faults")  # HubSpot is back
    deliveries = _wait(deliveries, timeout=90)
    assert [d.status for d in deliveries] == ["delivered"] * 3
    for delivery in deliveries:
        answers = [a.status_code for a in delivery.attempt_log.all()]
        assert answers.count(503) >= RETRIES_IN_OUTAGE, (delivery.kind, answers)
        assert answers[-1] != 503
    _assert_failed_run_told_once(portal, deal, run, callback_id)
    stored = [
        c for c in _hubspot_calls(portal, "POST", "/crm/v3/objects/notes") if c["status"] < 300
    ]
    assert len(stored) == 1
    assert _execution(portal, callback_id)["late_completions"] == 0  # completed exactly once


def test_answers_lost_after_hubspot_stored_them_give_one_note_and_one_completion(
    portal, blocking_app
):
    deal = portal.deal([])
    callback_id = _workflow_waiting(portal, deal, blocking_app)
    run = _run(portal, deal, status="failed")
    for method, prefix in (
        ("POST", "/crm/v3/objects/notes"),
        ("PATCH", "/crm/v3/objects/deals"),
        ("POST", "/automation/v4/actions/callbacks"),
    ):
        portal.world.hubspot_admin(
            "POST",
            "/_sandbox/faults/commit-then-drop",
            json={"count": 1, "method": method, "path_prefix": prefix},
        )

    deliveries = _wait(
        _create(portal, _failed_run_effects(portal, deal, run, callback_id), run), timeout=60
    )

    assert [d.status for d in deliveries] == ["delivered"] * 3
    assert portal.world.hubspot_admin("GET", "/_sandbox/faults")["commit_then_drop"] == []
    _assert_failed_run_told_once(portal, deal, run, callback_id)
    note = deliveries[0]
    # The retry found the note the lost answer was about, and took it instead of sending again.
    assert [a.outcome for a in note.attempt_log.all()] == ["retry", "adopted"]
    assert note.result["note_id"] == str(portal.notes(deal)[0]["id"])
    stored = [
        c for c in _hubspot_calls(portal, "POST", "/crm/v3/objects/notes") if c["status"] < 300
    ]
    assert len(stored) == 1
    # HubSpot got the completion twice (the lost one and the repeat) and kept the first.
    assert _execution(portal, callback_id)["late_completions"] == 1


def test_a_late_failed_never_overwrites_a_newer_created(portal):
    deal = portal.deal([])
    failed_run = _run(portal, deal, status="failed")
    replay = _run(portal, deal, status="succeeded", fortnox_document_number="7")
    failed = properties_spec(
        "deals",
        deal,
        {"fortnox_status": "failed", "fortnox_document_number": ""},
        sequence=failed_run.pk,
    )
    created = properties_spec(
        "deals",
        deal,
        {"fortnox_status": "created", "fortnox_document_number": "7"},
        sequence=replay.pk,
    )
    # HubSpot is down when the failed run ends: its "failed" waits for a retry... (the test
    # waits until its first attempt, the HubSpot client's own repeats included, has failed, so
    # no attempt under way can land it before the Replay's "created" exists)
    portal.world.hubspot_admin(
        "POST",
        "/_sandbox/faults/outage",
        json={"seconds": OUTAGE_S, "method": "PATCH", "path_prefix": "/crm/v3/objects/deals"},
    )
    [late] = _create(portal, [failed], failed_run)
    _wait_for_retries([late], count=1, timeout=60)
    # ...and the Replay succeeds meanwhile: its "created" supersedes the waiting "failed".
    [newer] = _create(portal, [created], replay)
    _wait_for_status(late, "superseded", timeout=60)
    portal.world.hubspot_admin("DELETE", "/_sandbox/faults")  # HubSpot is back
    late, newer = _wait([late, newer], timeout=60)
    assert (late.status, newer.status) == ("superseded", "delivered")
    assert f"delivery {newer.pk}" in late.last_error

    # A "failed" of the older run recorded even later is never sent at all.
    [later_still] = _create(portal, [failed], failed_run)
    assert later_still.status == "superseded"
    time.sleep(3)

    properties = portal.record("deals", deal)["properties"]
    assert (properties["fortnox_status"], properties["fortnox_document_number"]) == ("created", "7")
    patches = [
        c
        for c in _hubspot_calls(portal, "PATCH", f"/crm/v3/objects/deals/{deal}")
        if c["status"] < 300
    ]
    assert [c["body"]["properties"]["fortnox_status"] for c in patches] == ["created"]


def test_a_deleted_deal_gives_up_at_once_with_a_reason_staff_see(portal):
    deal = portal.deal([])
    run = _run(portal, deal, status="failed")
    portal.world.hubspot_admin("DELETE", f"/_sandbox/portals/{portal.hub}/objects/deals/{deal}")

    [delivery] = _wait(
        _create(
            portal,
            [properties_spec("deals", deal, {"fortnox_status": "failed"}, sequence=run.pk)],
            run,
        ),
        timeout=30,
    )

    assert delivery.status == "gave_up"
    assert delivery.attempts == 1  # a 404 is not worth a second try
    assert "HubSpot cannot find the deal" in delivery.gave_up_reason
    staff = get_user_model().objects.create_superuser("staff", "staff@example.com", "pw")
    browser = Client()
    browser.force_login(staff)
    page = browser.get(f"/admin/sync/delivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert "HubSpot cannot find the deal" in visible_text(page.content.decode())
    assert "Delete" not in visible_text(page.content.decode())
    listing = visible_text(
        browser.get("/admin/sync/delivery/?status__exact=gave_up").content.decode()
    )
    assert "Gave up" in listing and "HubSpot cannot find the deal" in listing
    log = WORKER_LOG.read_text()
    assert any(
        "delivery gave up" in line and f"delivery={delivery.pk}" in line and f"run={run.pk}" in line
        for line in log.splitlines()
    )


def test_the_note_carries_the_documents_pdf_once_even_when_the_answer_is_lost(portal):
    deal = portal.deal([])
    run = _run(portal, deal, status="succeeded", fortnox_document_number="1")
    pdf = {
        "document_kind": "invoice",
        "number": "1",
        "file_name": f"Fortnox invoice 1 run {run.pk}.pdf",
    }
    portal.world.hubspot_admin(
        "POST",
        "/_sandbox/faults/commit-then-drop",
        json={"count": 1, "path_prefix": "/crm/v3/objects/notes"},
    )

    [delivery] = _wait(_create(portal, [_success_note(deal, run, pdf)], run), timeout=60)

    assert delivery.status == "delivered"
    [note] = portal.notes(deal)
    assert "The PDF is attached." in visible_text(note["properties"]["hs_note_body"])
    file_id = note["properties"]["hs_attachment_ids"]
    assert file_id == delivery.result["file_id"]
    stored = portal.world.hubspot_admin("GET", f"/_sandbox/files/{file_id}")
    assert stored["access"] == "PRIVATE" and stored["size"] > 0
    uploads = _hubspot_calls(portal, "POST", "/files/v3/files")
    assert len(uploads) == 1


def test_a_pdf_fortnox_cannot_give_still_leaves_the_note_saying_why(portal):
    deal = portal.deal([])
    run = _run(portal, deal, status="succeeded", fortnox_document_number="1")
    missing = {"document_kind": "invoice", "number": "999999", "file_name": f"x run {run.pk}.pdf"}

    [delivery] = _wait(_create(portal, [_success_note(deal, run, missing)], run), timeout=60)

    assert delivery.status == "delivered"
    [text] = _note_texts(portal, deal)
    assert "Fortnox invoice 1 created" in text
    assert "The PDF could not be attached: Fortnox cannot find" in text
    assert not portal.notes(deal)[0]["properties"].get("hs_attachment_ids")


def _left_behind(portal: Portal, spec, run: Run, **state) -> Delivery:
    """A delivery as a lost task or a dead worker leaves it: recorded, never finished."""
    return Delivery.objects.create(
        installation=HubSpotInstallation.objects.get(hub_id=portal.hub),
        run=run,
        kind=spec.kind,
        payload=spec.payload,
        record_key=spec.record_key,
        sequence=spec.sequence,
        next_attempt_at=timezone.now() - timedelta(minutes=5),
        **state,
    )


def test_the_sweep_sends_a_delivery_whose_task_was_lost(portal):
    deal = portal.deal([])
    run = _run(portal, deal, status="failed")
    spec = properties_spec("deals", deal, {"fortnox_status": "failed"}, sequence=run.pk)
    delivery = _left_behind(portal, spec, run)

    assert deliveries_sweep() == {"lost_tasks": 1, "dead_workers": 0}

    [delivery] = _wait([delivery], timeout=30)
    assert delivery.status == "delivered"
    assert portal.record("deals", deal)["properties"]["fortnox_status"] == "failed"
    assert deliveries_sweep() == {"lost_tasks": 0, "dead_workers": 0}


def test_a_note_whose_worker_died_after_hubspot_stored_it_is_not_sent_twice(portal):
    deal = portal.deal([])
    run = _run(portal, deal, status="failed")
    spec = _failure_note(deal, run)
    # The dead worker's request reached HubSpot: the note is on the deal.
    portal.create(
        "notes",
        {
            "hs_timestamp": "1700000000000",
            "hs_note_body": note_body("failure", spec.payload["data"]),
        },
        [("deals", deal)],
    )
    delivery = _left_behind(
        portal,
        spec,
        run,
        attempts=1,
        outcome_unknown=True,
        send_started_at=timezone.now() - timedelta(minutes=6),
        lease_until=timezone.now() - timedelta(seconds=1),
    )

    assert deliveries_sweep() == {"lost_tasks": 0, "dead_workers": 1}

    [delivery] = _wait([delivery], timeout=30)
    assert delivery.status == "delivered"
    [note] = portal.notes(deal)
    assert delivery.result["note_id"] == str(note["id"])
    assert [a.outcome for a in delivery.attempt_log.all()] == ["adopted"]
    assert _hubspot_calls(portal, "POST", "/crm/v3/objects/notes") == []


def test_a_portal_that_uninstalled_the_app_gives_up_at_once_saying_so(portal):
    deal = portal.deal([])
    run = _run(portal, deal, status="failed")
    portal.world.hubspot_admin("POST", "/_sandbox/faults/uninstall", json={"portal": portal.hub})

    [note] = _wait(_create(portal, [_failure_note(deal, run)], run), timeout=30)

    assert (note.status, note.attempts) == ("gave_up", 1)
    assert f"The app was uninstalled from HubSpot portal {portal.hub}" in note.gave_up_reason
    # The next one does not even try: the installation is known to be gone.
    [later] = _wait(_create(portal, [_failure_note(deal, run)], run), timeout=30)
    assert (later.status, later.attempts) == ("gave_up", 0)
    assert "no longer installed" in later.gave_up_reason
    assert portal.notes(deal) == []
