"""Issue 13: the Fortnox document equals the deal. Each test compares Fortnox's own figures
(the document read back from the Fortnox sandbox) with HubSpot's (the deal's line items as the
HubSpot sandbox stores them), never with numbers the app computed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sync.models import PipelineSetting, Run
from tests.flows import Portal, visible_text
from tests.sync.test_runs_e2e import configure, note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def D(value) -> Decimal:
    return Decimal(str(value))


def line_amounts(portal: Portal, deal: str) -> list[Decimal]:
    """HubSpot's line amounts, in HubSpot's line order (hs_position_on_quote, then creation)."""
    ids = portal.record("deals", deal)["associations"]["line_items"]
    items = [portal.record("line_items", str(i))["properties"] for i in ids]
    items.sort(key=lambda p: (D(p.get("hs_position_on_quote") or 10**6), int(p["hs_object_id"])))
    return [D(p["amount"]) for p in items]


def row_nets(document: dict, rows_key: str = "InvoiceRows") -> list[Decimal]:
    return [D(r.get("TotalExcludingVAT", r["Total"])) for r in document[rows_key]]


def run_deal(portal: Portal, lines, **kwargs) -> tuple[str, Run]:
    deal = portal.deal(lines, **kwargs)
    portal.move(deal)
    [run] = wait_for_runs(deal)
    return deal, run


def test_item1_an_order_of_3_x_100_has_net_300_in_fortnox(portal):
    PipelineSetting.objects.update(document_type="order")
    deal, run = run_deal(
        portal, [{"name": "Article", "quantity": "3", "price": "100", "hs_sku": "1"}]
    )
    assert run.status == "succeeded", run.error_message
    order = portal.fortnox_record("orders", run.fortnox_document_number)
    assert D(order["Net"]) == sum(line_amounts(portal, deal)) == D(300)
    assert row_nets(order, "OrderRows") == line_amounts(portal, deal)
    text = note_text(portal, deal)
    assert f"Total: {D(order['Total']):,.2f} SEK" in text
    assert "Checked: matches the deal." in text
    assert run.reconciliation_differences == []


def test_item2_a_vat_included_customer_still_gets_net_prices(portal):
    customer = portal.fortnox_api(
        "POST",
        "customers",
        json={
            "Customer": {
                "Name": "Brutto AB",
                "OrganisationNumber": "556000-0002",
                "ShowPriceVATIncluded": True,
            }
        },
    ).json()["Customer"]
    company = portal.create(
        "companies", {"name": "Brutto AB", "fortnox_organisation_number": "556000-0002"}
    )
    deal, run = run_deal(
        portal,
        [{"name": "Service", "quantity": "1", "price": "1000", "hs_tax_rate": "25", "hs_sku": "1"}],
        company=company,
    )
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert invoice["CustomerNumber"] == customer["CustomerNumber"]
    assert D(invoice["Net"]) == line_amounts(portal, deal)[0] == D(1000)
    assert D(invoice["TotalVAT"]) == D(250) and D(invoice["Total"]) == D(1250)
    assert "Net: 1,000.00 SEK; VAT: 250.00 SEK; Total: 1,250.00 SEK" in note_text(portal, deal)


def test_item8_10000_x_0_125_is_1250_in_fortnox_and_the_note_says_why(portal):
    deal, run = run_deal(
        portal, [{"name": "Bolt", "quantity": "10000", "price": "0.125", "hs_sku": "1"}]
    )
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert row_nets(invoice) == line_amounts(portal, deal) == [D("1250.00")]
    assert "10000 st à 0,125" in invoice["InvoiceRows"][0]["Description"]
    text = note_text(portal, deal)
    assert "Sent as one amount" in text and "Bolt" in text
    assert "Checked: matches the deal." in text


def test_item8_a_stock_article_that_needs_more_decimals_fails(portal):
    portal.fortnox_api(
        "POST",
        "articles",
        json={"Article": {"ArticleNumber": "STOCK1", "Description": "Bolt", "StockGoods": True}},
    )
    deal, run = run_deal(
        portal, [{"name": "Bolt", "quantity": "10000", "price": "0.125", "hs_sku": "STOCK1"}]
    )
    assert run.status == "failed"
    assert "stock article" in note_text(portal, deal)
    assert portal.fortnox_records("invoices") == [] or all(
        i.get("ExternalInvoiceReference1") != run.external_reference
        for i in portal.fortnox_records("invoices")
    )


def test_item9_amount_and_percent_discounts_equal_hubspots_amounts(portal):
    deal, run = run_deal(
        portal,
        [
            {"name": "A", "quantity": "3", "price": "99.90", "discount": "10", "hs_sku": "1"},
            {"name": "B", "quantity": "2", "price": "500", "discount": "50", "hs_sku": "1"},
            {
                "name": "C",
                "quantity": "7",
                "price": "33.33",
                "hs_discount_percentage": "15",
                "hs_sku": "1",
            },
        ],
    )
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert row_nets(invoice) == line_amounts(portal, deal)
    assert "listpris 99,9" in invoice["InvoiceRows"][0]["Description"]
    assert all(r["DiscountType"] == "PERCENT" for r in invoice["InvoiceRows"])
    assert run.reconciliation_differences == []


@pytest.mark.parametrize(
    ("line", "needle"),
    [({"hs_discount_percentage": "120"}, "120 %"), ({"discount": "150"}, "150 per unit")],
)
def test_item9_an_impossible_discount_fails_before_fortnox_is_called(portal, line, needle):
    before = len(portal.fortnox_records("customers"))
    deal, run = run_deal(
        portal, [{"name": "Gadget", "quantity": "1", "price": "100", "hs_sku": "1", **line}]
    )
    assert run.status == "failed"
    text = note_text(portal, deal)
    assert "Gadget" in text and needle in text
    assert len(portal.fortnox_records("customers")) == before  # nothing made in Fortnox


def test_item11_no_line_items_and_no_amount_fails(portal):
    configure(portal, no_line_items_policy="default_row", default_article_number="1")
    deal, run = run_deal(portal, [])
    assert run.status == "failed"
    assert "no amount" in note_text(portal, deal)
    assert run.fortnox_document_number == ""


def test_item16_a_tax_rate_group_resolves_through_hubspots_tax_rates(portal):
    group = portal.world.hubspot_admin(
        "POST",
        f"/_sandbox/portals/{portal.hub}/tax-rates",
        json={"name": "Moms 12", "percentageRate": 12},
    )["id"]
    deal, run = run_deal(
        portal,
        [
            {
                "name": "Food",
                "quantity": "2",
                "price": "50",
                "hs_sku": "1",
                "hs_tax_rate_group_id": group,
            }
        ],
    )
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert D(invoice["InvoiceRows"][0]["VAT"]) == D(12)
    assert D(invoice["TotalVAT"]) == line_amounts(portal, deal)[0] * D("0.12")


def test_item16_an_unknown_tax_rate_group_fails_naming_the_line(portal):
    deal, run = run_deal(
        portal,
        [
            {
                "name": "Food",
                "quantity": "1",
                "price": "50",
                "hs_sku": "1",
                "hs_tax_rate_group_id": "404404",
            }
        ],
    )
    assert run.status == "failed"
    assert "Food" in note_text(portal, deal) and "404404" in note_text(portal, deal)


def test_item16_rows_follow_hubspots_line_order_and_credit_lines_keep_their_sign(portal):
    deal, run = run_deal(
        portal,
        [
            {
                "name": "Third",
                "quantity": "1",
                "price": "10",
                "hs_sku": "1",
                "hs_position_on_quote": "3",
            },
            {
                "name": "Credit pct",
                "quantity": "-2",
                "price": "100",
                "hs_discount_percentage": "10",
                "hs_sku": "1",
                "hs_position_on_quote": "1",
            },
            {
                "name": "Credit unit",
                "quantity": "-2",
                "price": "100",
                "discount": "5",
                "hs_sku": "1",
                "hs_position_on_quote": "2",
            },
        ],
    )
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert [r["Description"] for r in invoice["InvoiceRows"]] == [
        "Credit pct",
        "Credit unit",
        "Third",
    ]
    assert row_nets(invoice) == line_amounts(portal, deal) == [D(-180), D(-190), D(10)]


def test_item17_a_recurring_line_says_its_period_and_the_note_says_no_subscription(portal):
    deal, run = run_deal(
        portal,
        [
            {
                "name": "Licence",
                "quantity": "1",
                "price": "1200",
                "hs_sku": "1",
                "hs_recurring_billing_period": "P12M",
            }
        ],
    )
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert invoice["InvoiceRows"][0]["Description"] == "Licence (12 månader)"
    assert row_nets(invoice) == line_amounts(portal, deal)
    assert "Recurring billing is not created in Fortnox" in note_text(portal, deal)


def test_the_reconciliation_names_each_difference_and_explains_overrides():
    """The differences path (every test above proves the "no difference" path end to end)."""
    from integrations.fortnox.documents import document_shape
    from sync.document import RowPlan
    from sync.reconcile import document_reconcile, vat_overrides

    plan = [
        RowPlan(line="A", net=D("300.00"), vat=D(25)),
        RowPlan(line="B", net=D("10.00"), vat=D(0), hubspot_vat=D(25), vat_override="export"),
    ]
    document = {
        "InvoiceRows": [{"TotalExcludingVAT": 0, "VAT": 25}, {"TotalExcludingVAT": 10, "VAT": 0}],
        "Net": 10,
        "RoundOff": 0.25,
        "Currency": "SEK",
    }
    differences = document_reconcile(document, document_shape("invoice"), plan, "SEK")
    assert [(d["row"], d["line"], d["what"]) for d in differences] == [
        (1, "A", "net"),
        (None, "", "Document net"),
    ]
    assert vat_overrides(plan) == [{"line": "B", "hubspot_vat": "25", "reason": "export"}]


def test_item18_a_replay_adopting_an_older_document_says_so_and_shows_the_difference(portal):
    from tests.sync.test_runs_e2e import _replay

    deal = portal.deal([{"name": "Widget", "quantity": "1", "price": "100", "hs_sku": "1"}])
    # The first run's create reaches Fortnox but its answer is lost, and the look-up that
    # would find it is refused: the run fails, leaving an invoice made from today's data.
    portal.world.fortnox_admin(
        "POST", "/_sandbox/faults/commit-then-drop", json={"count": 1, "path_prefix": "/3/invoices"}
    )
    portal.world.fortnox_admin(
        "POST",
        "/_sandbox/faults/fail-next",
        json={"count": 1, "status": 400, "method": "GET", "path_prefix": "/3/invoices"},
    )
    portal.move(deal)
    [failed] = wait_for_runs(deal)
    assert failed.status == "failed", failed.status
    [line_id] = portal.record("deals", deal)["associations"]["line_items"]
    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/line_items/{line_id}",
        json={"properties": {"price": "150"}},
    )

    _replay(portal, failed)
    runs = wait_for_runs(deal, count=2)

    assert [r.status for r in runs] == ["failed", "succeeded"]
    invoice = portal.fortnox_record("invoices", runs[1].fortnox_document_number)
    assert invoice["ExternalInvoiceReference1"] == failed.external_reference
    assert row_nets(invoice) == [D(100)] != line_amounts(portal, deal)
    notes = [visible_text(n["properties"]["hs_note_body"]) for n in portal.notes(deal)]
    [success] = [n for n in notes if "created (draft" in n]
    assert f"created by run {failed.pk}" in success
    assert "differs from the deal" in success
    assert "Row 1 (Widget) net: 100.00 SEK in Fortnox, 150.00 SEK in HubSpot" in success, success
    # Stored on the run without the line's name (the privacy scrub's rule for deal content).
    assert [(d["row"], d["what"]) for d in runs[1].reconciliation_differences] == [
        (1, "net"),
        (None, "Document net"),
    ]
