"""The deal's dates and currency as the document builder sees them (no API involved): the
close date is an instant, taken as a calendar date in the portal's time zone (issue 13,
item 12); a deal without a currency takes the portal's (item 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from integrations.hubspot.crm import CrmRecord
from sync.articles import ResolvedRow
from sync.context import RunFailure
from sync.currency import document_currency_check
from sync.customers import ResolvedCustomer
from sync.document import document_build
from sync.mapping import mappings_for
from sync.reader import DealSnapshot, LineItem


def _invoice(closedate: str, time_zone: str, *, deal_currency: str = "", portal: str = "SEK"):
    deal = CrmRecord("901", {"closedate": closedate, "deal_currency_code": deal_currency})
    item = LineItem("1", {"name": "x", "quantity": "1", "price": "1"}, None)
    snapshot = DealSnapshot(deal, [item], "companies", CrmRecord("7", {}), portal_currency=portal)
    return document_build(
        document_type="invoice",
        run_id=1,
        customer=ResolvedCustomer("7"),
        snapshot=snapshot,
        rows=[ResolvedRow(item, "1")],
        mappings=mappings_for({}),
        today=date(2026, 11, 25),
        time_zone=time_zone,
    )


@pytest.mark.parametrize(
    ("closedate", "time_zone", "expected"),
    [
        ("2026-11-20T23:30:00.000Z", "Europe/Stockholm", "2026-11-21"),
        ("2026-11-20T23:30:00Z", "UTC", "2026-11-20"),
        ("2026-11-21T03:00:00Z", "America/New_York", "2026-11-20"),
        ("2026-06-20T22:30:00+00:00", "Europe/Stockholm", "2026-06-21"),  # summer time
        (
            str(int(datetime(2026, 11, 20, 23, 30, tzinfo=UTC).timestamp() * 1000)),
            "Europe/Stockholm",
            "2026-11-21",
        ),
        ("2026-11-20", "America/New_York", "2026-11-20"),  # a bare date is already a date
    ],
)
def test_the_delivery_date_is_the_close_date_in_the_portal_time_zone(
    closedate, time_zone, expected
):
    assert _invoice(closedate, time_zone)["DeliveryDate"] == expected


@pytest.mark.parametrize("closedate", ["", "next week"])
def test_no_usable_close_date_leaves_the_delivery_date_out(closedate):
    assert "DeliveryDate" not in _invoice(closedate, "Europe/Stockholm")


def test_the_deal_currency_wins_over_the_portal_currency_and_no_rate_is_sent():
    invoice = _invoice("", "UTC", deal_currency="usd", portal="EUR")
    assert invoice["Currency"] == "USD" and "CurrencyRate" not in invoice
    assert _invoice("", "UTC", portal="NOK")["Currency"] == "NOK"


def test_a_deal_without_any_known_currency_fails_with_the_fix():
    with pytest.raises(RunFailure) as failure:
        document_currency_check(None, "")  # type: ignore[arg-type]  # fails before any call
    assert "no currency" in failure.value.message
    assert "Set the deal's currency" in failure.value.fix
