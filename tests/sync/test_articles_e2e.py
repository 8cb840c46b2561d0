"""Finding the Fortnox article of a line item (issue 13, items 13 and 14), end to end through
both sandboxes: the article on Fortnox's document, read back, against the line item as HubSpot
stores it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.flows import Portal
from tests.sync.test_runs_e2e import configure, note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


#: More than two pages of Fortnox's largest page (500), so the app searches the remaining
#: articles one by one instead of listing every page.
FILLER_ARTICLES = 1100


def _articles(portal: Portal, *articles: dict) -> None:
    """The bookkeeper's article register (through the sandbox's bulk route: same rules)."""
    portal.world.fortnox_admin(
        "POST", f"/_sandbox/records/{portal.company}/articles", json={"articles": list(articles)}
    )


def _line_items(portal: Portal, deal_id: str) -> list[dict]:
    ids = portal.record("deals", deal_id)["associations"]["line_items"]
    return [portal.record("line_items", i)["properties"] for i in ids]


def test_articles_found_by_name_are_active_and_unambiguous(portal):
    configure(portal, article_search="name")
    _articles(
        portal,
        # Sorted first, so an arbitrary pick would take it: the inactive one must be ignored.
        {"ArticleNumber": "G-1", "Description": "Gadget", "Active": False},
        {"ArticleNumber": "G-2", "Description": "Gadget"},
        {"ArticleNumber": "W-1", "Description": "Widget"},
        {"ArticleNumber": "W-2", "Description": "widget"},
    )
    gadget = portal.deal([{"name": "Gadget", "quantity": "2", "price": "150"}])
    widget = portal.deal([{"name": "Widget", "quantity": "1", "price": "80"}])

    portal.move(gadget)
    portal.move(widget)
    [gadget_run] = wait_for_runs(gadget)
    [widget_run] = wait_for_runs(widget)

    assert gadget_run.status == "succeeded", gadget_run.error_message
    invoice = portal.fortnox_record("invoices", gadget_run.fortnox_document_number)
    [row] = invoice["InvoiceRows"]
    [line] = _line_items(portal, gadget)
    assert row["ArticleNumber"] == "G-2" and row["Description"] == line["name"]
    assert Decimal(str(invoice["Net"])) == Decimal(line["amount"])

    assert widget_run.status == "failed" and not widget_run.fortnox_document_number
    note = note_text(portal, widget)
    assert "Several active Fortnox articles" in note and "'Widget': W-1, W-2" in note
    assert not [i for i in portal.fortnox_records("invoices") if "W-1" in str(i)]


def test_a_sku_with_a_slash_is_found_and_invoiced(portal):
    _articles(
        portal,
        *(
            {"ArticleNumber": str(100000 + i), "Description": f"Filler {i}"}
            for i in range(FILLER_ARTICLES)
        ),
        {"ArticleNumber": "AB/12", "Description": "Bracket"},
        # A substring of the search for AB/12 finds this one too: only the exact one counts.
        {"ArticleNumber": "AB/123", "Description": "Bracket, large"},
    )
    # Fortnox's router and an encoded slash: unconfirmed, and the sandbox says "not found"
    # (sandbox/fortnox/README.md); the app must not need the path.
    assert portal.fortnox_api("GET", "articles/AB%2F12").status_code == 404
    before = len(portal.fortnox_records("articles"))
    deal = portal.deal([{"name": "Bracket", "quantity": "3", "price": "250", "hs_sku": "AB/12"}])

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    [row] = invoice["InvoiceRows"]
    [line] = _line_items(portal, deal)
    assert row["ArticleNumber"] == line["hs_sku"] == "AB/12"
    assert Decimal(str(row["Total"])) == Decimal(line["amount"]) == Decimal("750")
    assert len(portal.fortnox_records("articles")) == before  # found, not created


def test_numbers_with_a_slash_are_looked_up_through_the_list_search(portal):
    from integrations.fortnox.client import FortnoxClient
    from integrations.fortnox.errors import FortnoxNotFound
    from integrations.models import HubSpotInstallation

    _articles(portal, {"ArticleNumber": "AB/12", "Description": "Bracket"})
    _articles(portal, {"ArticleNumber": "AB/123", "Description": "Bracket, large"})
    for number, name in (("K/7", "Sju AB"), ("K/77", "Sjuttiosju AB")):
        answer = portal.fortnox_api(
            "POST", "customers", json={"Customer": {"CustomerNumber": number, "Name": name}}
        )
        assert answer.status_code == 201, answer.text
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    client = FortnoxClient(installation.active_fortnox_connection())

    assert client.article_get("AB/12")["Description"] == "Bracket"
    assert client.article_find("AB/1") is None  # a substring of two numbers is neither
    assert client.customer_get("K/7")["Name"] == "Sju AB"
    assert client.customer_find("K/77")["Name"] == "Sjuttiosju AB"
    with pytest.raises(FortnoxNotFound):
        client.customer_get("K/8")
    with pytest.raises(FortnoxNotFound):
        client.article_get("AB/1")
