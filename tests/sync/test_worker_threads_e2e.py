"""Runs of two portals on the threads of one worker process at the same time keep what is theirs:
the language of their note and document, their HubSpot token, their Fortnox company and customer.

The suite's worker runs the threads pool as production does (tests/conftest.py worker_start).
What a thread could carry from one run into another's: the active language (Django's, per
thread), the attempt's deadline and the log's run id (context variables), the database
connection, the API clients and their HTTP sessions (per run), the local rate-limit buckets
(shared, locked). Everything here is read back from the sandboxes.
"""

from __future__ import annotations

import re

import pytest

from sync.models import Run, SyncSettings
from tests.flows import FORTNOX_NO_ORDER_COMPANY, OTHER_HUB, Portal
from tests.sync.test_runs_e2e import configure, note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {"name": "Widget", "quantity": "3", "price": "200", "hs_sku": "WIDGET"}
DEALS = 4  # per portal: with 4 worker threads and 3 runs a portal, both portals run at once


def _overlap(a: Run, b: Run) -> bool:
    return a.started_at < b.finished_at and b.started_at < a.finished_at


def test_two_portals_runs_at_once_on_one_worker_keep_their_language_token_and_company(
    world, celery_worker_process
):
    swedish = portal_ready(world)
    configure(swedish, language=SyncSettings.Language.SWEDISH)
    english = portal_ready(world, OTHER_HUB, FORTNOX_NO_ORDER_COMPANY)  # English (the fixture)
    for portal in (swedish, english):
        portal.fortnox_api(
            "POST",
            "articles",
            json={"Article": {"ArticleNumber": "WIDGET", "Description": "Widget"}},
        )
    # Realistic latency, so that the runs of both portals are under way together.
    for admin in (world.fortnox_admin, world.hubspot_admin):
        admin("POST", "/_sandbox/faults/latency", json={"min_ms": 50, "max_ms": 150})
    deals: dict[str, tuple[Portal, str]] = {}
    for index in range(DEALS):
        for portal, name in ((swedish, f"Svensk {index} AB"), (english, f"English {index} Ltd")):
            company = portal.create("companies", {"name": name})
            deals[portal.deal([LINE], company=company)] = (portal, name)

    for deal, (portal, _name) in deals.items():
        portal.move(deal)
    runs = {deal: wait_for_runs(deal, timeout=180)[0] for deal in deals}
    for admin in (world.fortnox_admin, world.hubspot_admin):
        admin("POST", "/_sandbox/faults/latency", json={"min_ms": 0, "max_ms": 0})

    assert all(r.status == "succeeded" for r in runs.values()), [
        (r.pk, r.status, r.error_message) for r in runs.values()
    ]
    by_portal = {
        hub: [r for d, r in runs.items() if deals[d][0].hub == hub]
        for hub in (swedish.hub, english.hub)
    }
    # The two portals' runs were on the worker's threads at the same time.
    assert any(_overlap(a, b) for a in by_portal[swedish.hub] for b in by_portal[english.hub]), (
        "no run of one portal overlapped a run of the other: the test proved nothing"
    )

    for deal, (portal, name) in deals.items():
        run = runs[deal]
        invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
        # In the portal's own Fortnox company, for the deal's own company, in its language.
        assert invoice["ExternalInvoiceReference1"] == run.external_reference
        assert invoice["CustomerName"] == name
        assert [
            (r["ArticleNumber"], float(r["DeliveredQuantity"])) for r in invoice["InvoiceRows"]
        ] == [("WIDGET", 3.0)]
        text = note_text(portal, deal)
        number = run.fortnox_document_number
        if portal is swedish:
            assert invoice["Language"] == "SV"
            assert text.startswith(f"Fortnox-faktura {number} skapad"), text
            assert "Kontrollerad: stämmer med affären." in text
        else:
            assert invoice["Language"] == "EN"
            assert text.startswith(f"Fortnox invoice {number} created"), text
            assert "The PDF is attached." in text
        assert f"{name}" in text

    # Each portal's deals were read with that portal's own token: HubSpot logs the portal of the
    # token, and each portal's log names only its own deals, every call answered.
    deal_path = re.compile(r"^/crm/v3/objects/deals/(\d+)$")
    for portal in (swedish, english):
        mine = {d for d, (p, _n) in deals.items() if p is portal}
        log = world.hubspot_admin(
            "GET", f"/_sandbox/requests?portal={portal.hub}&path_prefix=/crm/v3/objects/deals/"
        )
        read = {m.group(1) for e in log if (m := deal_path.match(e["path"]))}
        assert read & set(deals) <= mine, (portal.hub, read)
        assert mine <= read
        assert all(e["status"] < 400 for e in log), [
            (e["method"], e["path"], e["status"]) for e in log if e["status"] >= 400
        ]
