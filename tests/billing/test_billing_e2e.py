"""Billing end to end (issue 17): deals moved in HubSpot's sandbox, the real worker creating
documents in Fortnox's sandbox, and what the user sees: the notes, the documents, the count."""

from __future__ import annotations

import io
import re

import pytest
import requests
from django.contrib.auth.models import User
from pypdf import PdfReader

from billing.models import Plan, PortalPlan, QuotaReservation, UsageCredit, UsageRecord
from billing.services import usage_summary
from integrations.models import HubSpotInstallation
from sync.models import Run
from tests.flows import Portal, browser_install, csrf_token, visible_text
from tests.sync.test_runs_e2e import note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINES = [{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}]


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def counted(portal: Portal) -> int:
    return usage_summary(HubSpotInstallation.objects.get(hub_id=portal.hub)).used


def replay(portal: Portal, run: Run) -> str:
    from notes.replay import replay_url

    with requests.Session() as browser:
        page = browser.get(replay_url(portal.hub, run.pk), timeout=10)
        assert page.status_code == 200, page.text
        done = browser.post(
            page.url, data={"csrfmiddlewaretoken": csrf_token(page.text)}, timeout=10
        )
        return visible_text(done.text)


def test_a_run_retried_three_times_and_replayed_twice_counts_once(portal):
    deal = portal.deal(LINES)
    # Fortnox's "not processed" four times a call (the client's own tries) in three attempts:
    # the run is retried three times by the engine and the fourth attempt creates it.
    portal.world.fortnox_admin(
        "POST",
        "/_sandbox/faults/fail-next",
        json={"count": 12, "status": 503, "method": "POST", "path_prefix": "/3/invoices"},
    )
    portal.move(deal)
    [run] = wait_for_runs(deal, timeout=120)
    assert run.status == "succeeded", run.error_message
    assert run.attempts == 4
    creates = [s.status for s in run.steps.all() if (s.method, s.path) == ("POST", "/3/invoices")]
    assert creates == [503] * 12 + [201]

    for _time in range(2):
        assert "Nothing to do" in replay(portal, run)

    assert UsageRecord.objects.filter(deal_id=deal).count() == 1
    assert counted(portal) == 1
    assert QuotaReservation.objects.count() == 0


def test_a_document_adopted_after_a_commit_then_drop_counts_once(portal):
    deal = portal.deal(LINES)
    invoices_before = len(portal.fortnox_records("invoices"))
    portal.world.fortnox_admin(
        "POST", "/_sandbox/faults/commit-then-drop", json={"count": 1, "path_prefix": "/3/invoices"}
    )

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    assert "Adopted invoice" in " ".join(s.message for s in run.steps.all())
    assert len(portal.fortnox_records("invoices")) == invoices_before + 1
    [record] = UsageRecord.objects.filter(deal_id=deal)
    assert record.document_number == run.fortnox_document_number
    assert counted(portal) == 1


def test_a_quota_of_two_three_deals_then_reinstall_upgrade_replay_and_credit(portal, world, client):
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    small = Plan.objects.create(code="tiny", name="Tiny", monthly_quota=2)
    PortalPlan.objects.create(installation=installation, plan=small)
    invoices_before = len(portal.fortnox_records("invoices"))
    deals = [portal.deal(LINES) for _deal in range(3)]

    runs = []
    for deal in deals:  # one after the other: which deal is over the quota is then known
        portal.move(deal)
        runs += wait_for_runs(deal)

    assert [r.status for r in runs] == ["succeeded", "succeeded", "failed"]
    assert len(portal.fortnox_records("invoices")) == invoices_before + 2
    assert "used the last of the portal's quota of 2 documents" in note_text(portal, deals[1])
    assert "quota" not in note_text(portal, deals[0])
    over = note_text(portal, deals[2])
    assert "quota of 2 documents a month (plan Tiny) is used up" in over
    summary = usage_summary(installation)
    assert f"resets on {summary.resets_at.day} {summary.resets_at:%B %Y}" in over
    assert "Upgrade the plan on the Usage tab" in over
    assert runs[2].error_code == "quota_exceeded"
    assert (summary.used, summary.reserved) == (2, 0)

    # A reinstall keeps the portal's row (one per hub id), so the count stands.
    with requests.Session() as browser:
        assert browser_install(world, browser, portal.hub).status_code == 200
    assert HubSpotInstallation.objects.filter(hub_id=portal.hub).count() == 1
    assert counted(portal) == 2

    # After an upgrade, the Replay of the run over the quota creates the invoice.
    standard, _made = Plan.objects.get_or_create(
        code="standard", defaults={"name": "Standard", "monthly_quota": 200}
    )
    PortalPlan.objects.filter(installation=installation).update(plan=standard)
    assert "Replay started" in replay(portal, runs[2])
    replayed = wait_for_runs(deals[2], count=2)
    assert [r.status for r in replayed] == ["failed", "succeeded"], replayed[1].error_message
    assert len(portal.fortnox_records("invoices")) == invoices_before + 3
    assert counted(portal) == 3

    # Staff credit one in Django admin: it stops counting; the record stays.
    staff = User.objects.create_superuser("staff", "staff@example.se", "pw")
    client.force_login(staff)
    record = UsageRecord.objects.get(run=runs[0])
    refused = client.post(
        "/admin/billing/usagerecord/",
        {"action": "credit", "_selected_action": [record.pk], "apply": "1", "reason": " "},
    )
    assert refused.status_code == 200 and "This field is required" in refused.text
    assert counted(portal) == 3
    done = client.post(
        "/admin/billing/usagerecord/",
        {
            "action": "credit",
            "_selected_action": [record.pk],
            "apply": "1",
            "reason": "A test invoice",
        },
        follow=True,
    )
    assert "Credited 1 document(s)." in done.text
    credit = UsageCredit.objects.get(usage=record)
    assert (credit.credited_by, credit.reason) == ("staff", "A test invoice")
    assert counted(portal) == 2
    assert UsageRecord.objects.filter(installation=installation).count() == 3
    delete = client.get(f"/admin/billing/usagerecord/{record.pk}/delete/")
    assert delete.status_code == 403
    # Staff open the month's statement from the usage list: a PDF that shows the credit.
    listed = client.get("/admin/billing/usagerecord/")
    [link] = {href for href in re.findall(r'href="([^"]+statement\.pdf[^"]*)"', listed.text)}
    statement = client.get(link)
    assert statement.status_code == 200
    assert statement["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(statement.content)).pages)
    assert "A test invoice" in text
