"""Articles the "create article" policy creates carry the Products tab's type, unit, VAT and
sales account, read back from the Fortnox sandbox; the document's row is still the line item."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.flows import Portal
from tests.portals.settings_forms import form_submit, signed_in
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def test_a_created_article_has_the_chosen_type_unit_vat_and_sales_account(world, portal):
    with signed_in(world) as browser:
        saved = form_submit(
            browser,
            f"{world.app}/settings/{portal.hub}/products/",
            "products-form",
            not_found_policy="create_article",
            new_article_type="STOCK",
            new_article_unit="h",
            new_article_vat="12",
            new_article_sales_account="3002",
        )
        assert saved.status_code == 200, saved.text
    deal = portal.deal(
        [{"name": "Kurs", "quantity": "3", "price": "400", "hs_sku": "KURS-1", "hs_tax_rate": "12"}]
    )

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    article = portal.fortnox_record("articles", "KURS-1")
    assert (article["Description"], article["Type"], article["Unit"]) == ("Kurs", "STOCK", "h")
    assert (article["VAT"], article["SalesAccount"]) == (12, 3002)
    [row] = portal.fortnox_record("invoices", run.fortnox_document_number)["InvoiceRows"]
    line_id = portal.record("deals", deal)["associations"]["line_items"][0]
    line = portal.record("line_items", line_id)["properties"]
    assert row["ArticleNumber"] == line["hs_sku"]
    assert Decimal(str(row["DeliveredQuantity"])) == Decimal(line["quantity"])
    assert Decimal(str(row["Price"])) == Decimal(line["price"])
    assert Decimal(str(row["VAT"])) == Decimal(line["hs_tax_rate"])
    assert Decimal(str(row["TotalExcludingVAT"])) == Decimal(line["amount"])


def test_without_a_unit_vat_or_account_fortnox_defaults_apply(world, portal):
    with signed_in(world) as browser:
        saved = form_submit(
            browser,
            f"{world.app}/settings/{portal.hub}/products/",
            "products-form",
            not_found_policy="create_article",
        )
        assert saved.status_code == 200, saved.text
    deal = portal.deal([{"name": "Tjänst X", "quantity": "1", "price": "100", "hs_sku": "TX-1"}])

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    article = portal.fortnox_record("articles", "TX-1")
    assert article["Type"] == "SERVICE"
    assert article["Unit"] in (None, "")
