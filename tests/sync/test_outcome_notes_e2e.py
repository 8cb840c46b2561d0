"""Every outcome a user should know of leaves a note, without filling the deal's timeline
(issue 12's table): a trigger stage reached again after the document exists, and a trigger
stage reached while automatic creation is off, each leave one short note the first time and
are recorded as skipped runs; a stage that triggers nothing leaves no note."""

from __future__ import annotations

import pytest

from sync.models import Run, SyncSettings
from tests.flows import Portal
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {"name": "Widget", "quantity": "2", "price": "150", "hs_sku": "WIDGET"}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    portal = portal_ready(world)
    portal.fortnox_api(
        "POST", "articles", json={"Article": {"ArticleNumber": "WIDGET", "Description": "Widget"}}
    )
    return portal


def texts(portal: Portal, deal: str) -> list[str]:
    from tests.flows import visible_text

    notes = sorted(portal.notes(deal), key=lambda n: n["properties"]["hs_timestamp"])
    return [visible_text(n["properties"]["hs_note_body"]) for n in notes]


def test_the_trigger_stage_reached_again_leaves_one_short_note_the_first_time_only(portal):
    company = portal.create("companies", {"name": "Kund AB"})
    deal = portal.deal([LINE], company=company)
    portal.move(deal)
    [created] = wait_for_runs(deal)
    assert created.status == "succeeded"

    portal.move(deal, "appointmentscheduled")  # not a trigger stage: no run, no note
    portal.move(deal)
    runs = wait_for_runs(deal, count=2)
    portal.move(deal, "appointmentscheduled")
    portal.move(deal)
    runs = wait_for_runs(deal, count=3)

    assert [r.status for r in runs] == ["succeeded", "skipped", "skipped"]
    assert {r.error_code for r in runs[1:]} == {"already_created"}
    notes = texts(portal, deal)
    assert len(notes) == 2, notes  # the invoice's note, and one for the repeats
    assert f"Fortnox invoice {created.fortnox_document_number} created" in notes[0]
    assert f"Fortnox invoice {created.fortnox_document_number} was already created" in notes[1]
    assert "nothing new was created" in notes[1]
    invoices = [
        i
        for i in portal.fortnox_records("invoices")
        if i["ExternalInvoiceReference2"] == f"HubSpot deal {deal}"
    ]
    assert len(invoices) == 1


def test_a_trigger_stage_while_automatic_creation_is_off_leaves_one_note_per_deal_and_stage(
    portal,
):
    SyncSettings.objects.filter(installation__hub_id=portal.hub).update(auto_create=False)
    invoices_before = portal.fortnox_records("invoices")
    company = portal.create("companies", {"name": "Kund AB"})
    deal = portal.deal([LINE], company=company)
    other = portal.deal([LINE], company=company)

    portal.move(deal)
    portal.move(other)
    wait_for_runs(deal)
    wait_for_runs(other)
    portal.move(deal, "appointmentscheduled")
    portal.move(deal)
    runs = wait_for_runs(deal, count=2)

    assert [(r.status, r.error_code) for r in runs] == [("skipped", "auto_create_off")] * 2
    for one in (deal, other):
        notes = texts(portal, one)
        assert len(notes) == 1, notes
        assert "automatic creation is off" in notes[0]
        assert "Nothing was created in Fortnox." in notes[0]
    assert portal.fortnox_records("invoices") == invoices_before
    assert Run.objects.filter(subject_id__in=[deal, other], status="skipped").count() == 3
