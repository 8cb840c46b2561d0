"""Property: whatever deal HubSpot holds (quantities, prices to 4 decimals, percent and unit
discounts, Swedish tax rates, credit lines), Fortnox's document equals it. Each example is one
deal run end to end on one tenant through both sandboxes; the reconciliation must find nothing,
and Fortnox's row nets must equal HubSpot's line amounts, read from both sandboxes.

A fixed budget (EXAMPLES pairs of deals, derandomised so every run of the suite tries the same
deals) keeps it short. Each run is paced by its Fortnox company's and HubSpot portal's rate
limits, so the two deals of a pair go to two portals, each with its own Fortnox company, and run
side by side."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.models import Delivery, Run
from tests.flows import FORTNOX_NO_ORDER_COMPANY, OTHER_HUB, Portal
from tests.sync.test_money_e2e import D, line_amounts, row_nets
from tests.sync.test_runs_e2e import FINISHED, portal_ready

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = 20  # pairs: forty deals in all


def _decimal(places: int, low: str, high: str) -> st.SearchStrategy[str]:
    return st.decimals(
        min_value=Decimal(low), max_value=Decimal(high), places=places, allow_nan=False
    ).map(lambda d: f"{d:f}")


quantities = st.one_of(
    st.integers(min_value=1, max_value=40).map(str),
    st.integers(min_value=-5, max_value=-1).map(str),  # credit lines
    _decimal(2, "0.01", "99.99"),
    _decimal(3, "0.001", "20"),  # finer than Fortnox keeps: one exact amount
)
prices = st.one_of(_decimal(2, "0", "20000"), _decimal(4, "0.0001", "5000"))


@st.composite
def line_items(draw) -> dict[str, str]:
    price = draw(prices)
    line = {
        "name": f"Rad {draw(st.integers(min_value=1, max_value=999))}",
        "quantity": draw(quantities),
        "price": price,
        "hs_sku": "1",
        "hs_tax_rate": draw(st.sampled_from(["25", "12", "6", "0"])),
    }
    discount = draw(st.sampled_from(["none", "percent", "unit"]))
    if discount == "percent":
        line["hs_discount_percentage"] = draw(_decimal(2, "0", "100"))
    elif discount == "unit":
        line["discount"] = draw(_decimal(4, "0", price))
    return line


def run_of(portal: Portal, deal: str, timeout: float = 30) -> Run:
    """The deal's run once it and its deliveries are over (wait_for_runs, polled faster: the
    budget is mostly waiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.filter(installation__hub_id=portal.hub, subject_id=deal).first()
        if (
            run is not None
            and run.status in FINISHED
            and not Delivery.objects.filter(run=run, status="pending").exists()
        ):
            return run
        time.sleep(0.05)
    raise AssertionError(f"the run of deal {deal} did not finish")


@pytest.fixture
def portals(world, celery_worker_process) -> list[Portal]:
    """Two portals, each with its own Fortnox company (the second lacks only the order licence;
    these are invoices)."""
    return [portal_ready(world), portal_ready(world, OTHER_HUB, FORTNOX_NO_ORDER_COMPANY)]


def test_fortnox_documents_equal_the_deals_they_come_from(portals):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        pair=st.lists(
            st.lists(line_items(), min_size=1, max_size=3),
            min_size=len(portals),
            max_size=len(portals),
        )
    )
    def two_deals(pair):
        deals = [portal.deal(lines) for portal, lines in zip(portals, pair, strict=True)]
        for portal, deal in zip(portals, deals, strict=True):
            portal.move(deal)
        for portal, deal, lines in zip(portals, deals, pair, strict=True):
            run = run_of(portal, deal)
            assert run.status == "succeeded", (lines, run.error_message)
            invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
            assert run.reconciliation_differences == [], lines
            assert row_nets(invoice) == line_amounts(portal, deal), lines
            assert D(invoice["Net"]) == sum(line_amounts(portal, deal)), lines

    two_deals()
