"""The Fortnox calls a document costs (issue 18), read from the Fortnox sandbox's request log:
the document and its PDF for a repeat customer whose articles exist, however many line items;
at most two more (customer lookup and create) for a new customer; an unknown SKU costs the
refused create and one list of the article register, then the not-found policy, with the same
document and note as a lookup first gave."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings

from sync.models import PipelineSetting
from tests.flows import Portal
from tests.sync.test_runs_e2e import configure, note_text, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def _articles(portal: Portal, *articles: dict) -> None:
    """The bookkeeper's article register (the sandbox's bulk route: not in the request log)."""
    portal.world.fortnox_admin(
        "POST", f"/_sandbox/records/{portal.company}/articles", json={"articles": list(articles)}
    )


def _forget_calls(portal: Portal) -> None:
    portal.world.fortnox_admin("DELETE", "/_sandbox/requests")


def _app_calls(portal: Portal) -> list[tuple[str, str, int]]:
    """(method, path, status) of every Fortnox API call the service made, in order (the
    bookkeeper's own calls, under another client id, left out)."""
    log = portal.world.fortnox_admin(
        "GET", f"/_sandbox/requests?company={portal.company}&path_prefix=/3/"
    )
    return [
        (r["method"], r["path"].split("?")[0], r["status"])
        for r in log
        if r["client_id"] == settings.FORTNOX_CLIENT_ID
    ]


def _invoiced(portal: Portal, deal: str) -> tuple[dict, list[tuple[str, str, int]]]:
    """Move the deal, wait for its run and note; the invoice as Fortnox stores it and the
    Fortnox calls the run made."""
    _forget_calls(portal)
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    return portal.fortnox_record("invoices", run.fortnox_document_number), _app_calls(portal)


def _document_and_pdf(number: str) -> list[tuple[str, str, int]]:
    return [("POST", "/3/invoices", 201), ("GET", f"/3/invoices/{number}/preview", 200)]


def test_a_repeat_customer_costs_the_document_and_its_pdf_whatever_the_line_items(portal):
    _articles(
        portal,
        *({"ArticleNumber": f"ART-{i}", "Description": f"Artikel {i}"} for i in range(60)),
    )
    # No organisation number: the customer is looked up by name alone (with one, a miss by
    # number is followed by the name search: one call more, sync/customers.py).
    company = portal.create("companies", {"name": "Återkommande AB"})
    lines = [
        {"name": f"Artikel {i}", "quantity": "2", "price": f"{100 + i}", "hs_sku": f"ART-{i}"}
        for i in range(60)
    ]

    # A new customer: looked up and created, then the document and its PDF.
    first, calls = _invoiced(portal, portal.deal(lines[:3], company=company))
    assert calls == [
        ("GET", "/3/customers", 200),
        ("POST", "/3/customers", 201),
        *_document_and_pdf(first["DocumentNumber"]),
    ]

    # The same company again: mapped, its articles exist. Three line items, then sixty.
    for count in (3, 60):
        invoice, calls = _invoiced(portal, portal.deal(lines[:count], company=company))
        assert calls == _document_and_pdf(invoice["DocumentNumber"])
        assert invoice["CustomerNumber"] == first["CustomerNumber"]
        assert [r["ArticleNumber"] for r in invoice["InvoiceRows"]] == [
            f"ART-{i}" for i in range(count)
        ]
        assert Decimal(str(invoice["Net"])) == sum(
            Decimal(line["quantity"]) * Decimal(line["price"]) for line in lines[:count]
        )


@pytest.mark.parametrize(
    "answer",
    [{"code": 2001302, "status": 400}, {"code": 2000428, "status": 404}],
    ids=["2001302-400", "2000428-404"],
)
def test_an_unknown_sku_costs_one_list_call_then_the_policy_applies(portal, answer):
    # Fortnox's answer to a document with an unknown article is unconfirmed (fortnox-api.md
    # Addendum §4): the app must cope with either code, whatever the status.
    portal.world.fortnox_admin("POST", "/_sandbox/faults/article-missing-answer", json=answer)
    _articles(portal, {"ArticleNumber": "KAND-1", "Description": "Känd"})
    company = portal.create(
        "companies", {"name": "Policy AB", "fortnox_organisation_number": "556420-1122"}
    )
    known = {"name": "Känd", "quantity": "1", "price": "500", "hs_sku": "KAND-1"}
    portal.move(mapped := portal.deal([known], company=company))  # the customer becomes mapped
    assert wait_for_runs(mapped)[0].status == "succeeded"

    def refused_then_listed(calls: list) -> None:
        assert calls[:2] == [
            ("POST", "/3/invoices", answer["status"]),
            ("GET", "/3/articles", 200),
        ], calls

    # Create: the article is made with the SKU as its number, then the document.
    configure(portal, not_found_policy="create_article")
    gadget = {"name": "New gadget", "quantity": "2", "price": "150", "hs_sku": "GADGET-1"}
    deal = portal.deal([known, gadget], company=company)
    invoice, calls = _invoiced(portal, deal)
    refused_then_listed(calls)
    assert calls[2:] == [
        ("POST", "/3/articles", 201),
        *_document_and_pdf(invoice["DocumentNumber"]),
    ]
    assert [r["ArticleNumber"] for r in invoice["InvoiceRows"]] == ["KAND-1", "GADGET-1"]
    assert Decimal(str(invoice["Net"])) == Decimal("800")
    assert portal.fortnox_record("articles", "GADGET-1")["Description"] == "New gadget"
    assert "articles created in Fortnox: GADGET-1" in note_text(portal, deal)

    # Default article: the unknown line goes onto it, named on the note.
    configure(portal, not_found_policy="default_article", default_article_number="1")
    odd = {"name": "Odd thing", "quantity": "1", "price": "99", "hs_sku": "NOPE"}
    deal = portal.deal([known, odd], company=company)
    invoice, calls = _invoiced(portal, deal)
    refused_then_listed(calls)
    assert calls[2:] == _document_and_pdf(invoice["DocumentNumber"])
    assert [r["ArticleNumber"] for r in invoice["InvoiceRows"]] == ["KAND-1", "1"]
    assert invoice["InvoiceRows"][1]["Description"] == "Odd thing"
    assert Decimal(str(invoice["Net"])) == Decimal("599")
    assert "rows on the default article: Odd thing" in note_text(portal, deal)

    # Skip: no document; the note names the SKU and the product.
    configure(portal, not_found_policy="skip")
    invoices_before = portal.fortnox_records("invoices")
    deal = portal.deal([known, odd], company=company)
    _forget_calls(portal)
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "failed" and not run.fortnox_document_number
    assert _app_calls(portal) == [
        ("POST", "/3/invoices", answer["status"]),
        ("GET", "/3/articles", 200),
    ]
    assert portal.fortnox_records("invoices") == invoices_before
    assert (
        "No Fortnox article has SKU 'NOPE' (product 'Odd thing'), so the document was not "
        "created." in note_text(portal, deal)
    )


def test_the_policys_article_is_checked_for_stock_after_the_unknown_sku_answer(portal):
    # A row sent as one amount (more than 2 decimals) must not land on a stock article: the
    # default article the policy picks is read once the unknown SKU is known, as before.
    _articles(portal, {"ArticleNumber": "LAGER-1", "Description": "Skruv", "StockGoods": True})
    configure(portal, not_found_policy="default_article", default_article_number="LAGER-1")
    deal = portal.deal([{"name": "Bolt", "quantity": "10000", "price": "0.125", "hs_sku": "NOPE"}])
    _forget_calls(portal)

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "failed" and not run.fortnox_document_number
    assert "article LAGER-1 is a stock article" in note_text(portal, deal)
    calls = _app_calls(portal)
    assert calls[-3:] == [
        ("POST", "/3/invoices", 400),
        ("GET", "/3/articles", 200),
        ("GET", "/3/articles/LAGER-1", 200),
    ], calls
    assert not [c for c in calls if c[:2] == ("POST", "/3/invoices") and c[2] == 201]


def test_an_order_with_an_unknown_sku_gets_its_created_article(portal):
    PipelineSetting.objects.update(document_type="order")
    portal.world.fortnox_admin(
        "POST", "/_sandbox/faults/article-missing-answer", json={"code": 2000428, "status": 400}
    )
    configure(portal, not_found_policy="create_article")
    deal = portal.deal([{"name": "Ny tjänst", "quantity": "3", "price": "200", "hs_sku": "NY-1"}])
    _forget_calls(portal)

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    order = portal.fortnox_record("orders", run.fortnox_document_number)
    assert [r["ArticleNumber"] for r in order["OrderRows"]] == ["NY-1"]
    assert Decimal(str(order["Net"])) == Decimal("600")
    assert "articles created in Fortnox: NY-1" in note_text(portal, deal)
    calls = [c for c in _app_calls(portal) if not c[1].startswith("/3/customers")]
    assert calls == [
        ("POST", "/3/orders", 400),
        ("GET", "/3/articles", 200),
        ("POST", "/3/articles", 201),
        ("POST", "/3/orders", 201),
        ("GET", f"/3/orders/{run.fortnox_document_number}/preview", 200),
    ]


def test_a_lost_answer_to_the_create_sent_again_makes_one_document(portal):
    # The create sent after the unknown-SKU answer is carried out but its answer is lost
    # (the refused one is not dropped: only successful creates are): the run adopts the
    # document by its external reference instead of creating a second one.
    configure(portal, not_found_policy="default_article", default_article_number="1")
    deal = portal.deal([{"name": "Odd thing", "quantity": "1", "price": "99", "hs_sku": "NOPE"}])
    invoices_before = len(portal.fortnox_records("invoices"))
    portal.world.fortnox_admin(
        "POST", "/_sandbox/faults/commit-then-drop", json={"count": 1, "path_prefix": "/3/invoices"}
    )

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    invoices = portal.fortnox_records("invoices")
    assert len(invoices) == invoices_before + 1
    assert [i["ExternalInvoiceReference1"] for i in invoices].count(run.external_reference) == 1
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert [r["ArticleNumber"] for r in invoice["InvoiceRows"]] == ["1"]
    assert "Adopted invoice" in " ".join(s.message for s in run.steps.all())
    assert "rows on the default article: Odd thing" in note_text(portal, deal)


def test_a_later_attempt_that_adopts_the_document_tells_the_policys_rows(portal):
    # The second create is carried out but its answer lost, and the search for it fails too:
    # the attempt ends, and the next one finds the document by its external reference. Its
    # note still names the row put on the default article.
    configure(portal, not_found_policy="default_article", default_article_number="1")
    deal = portal.deal([{"name": "Odd thing", "quantity": "1", "price": "99", "hs_sku": "NOPE"}])
    invoices_before = len(portal.fortnox_records("invoices"))
    portal.world.fortnox_admin(
        "POST", "/_sandbox/faults/commit-then-drop", json={"count": 1, "path_prefix": "/3/invoices"}
    )
    portal.world.fortnox_admin(
        "POST",
        "/_sandbox/faults/fail-next",
        json={"count": 4, "status": 503, "method": "GET", "path_prefix": "/3/invoices"},
    )

    portal.move(deal)
    [run] = wait_for_runs(deal, timeout=120)

    assert run.status == "succeeded", run.error_message
    assert run.attempts > 1
    invoices = portal.fortnox_records("invoices")
    assert len(invoices) == invoices_before + 1
    assert [i["ExternalInvoiceReference1"] for i in invoices].count(run.external_reference) == 1
    assert "Adopted invoice" in " ".join(s.message for s in run.steps.all())
    assert "rows on the default article: Odd thing" in note_text(portal, deal)


def test_a_sku_that_cannot_be_an_article_number_is_looked_up_first(portal):
    # Fortnox allows letters a–z, digits and - + / . _ in article numbers (fortnox-api.md §4.2):
    # "SKRUV-Ä" is missing for sure, and its row might be refused for the character rather
    # than as an unknown article, so the register is listed before the create, as before.
    configure(portal, not_found_policy="default_article", default_article_number="1")
    deal = portal.deal([{"name": "Skruv", "quantity": "2", "price": "5", "hs_sku": "SKRUV-Ä"}])
    invoice, calls = _invoiced(portal, deal)

    assert [r["ArticleNumber"] for r in invoice["InvoiceRows"]] == ["1"]
    assert "rows on the default article: Skruv" in note_text(portal, deal)
    assert calls[0] == ("GET", "/3/articles", 200)
    assert calls[-2:] == _document_and_pdf(invoice["DocumentNumber"])
    assert ("POST", "/3/invoices", 400) not in calls


def test_by_name_a_repeat_customer_costs_one_list_of_the_register_more(portal):
    # A name has no article number to assume: the register is listed first (one page of 500).
    configure(portal, article_search="name")
    _articles(portal, {"ArticleNumber": "NAMN-1", "Description": "Namngiven"})
    company = portal.create("companies", {"name": "Namnkund AB"})
    line = {"name": "Namngiven", "quantity": "4", "price": "25"}
    portal.move(first := portal.deal([line], company=company))
    assert wait_for_runs(first)[0].status == "succeeded"

    invoice, calls = _invoiced(portal, portal.deal([line] * 5, company=company))

    assert calls == [("GET", "/3/articles", 200), *_document_and_pdf(invoice["DocumentNumber"])]
    assert [r["ArticleNumber"] for r in invoice["InvoiceRows"]] == ["NAMN-1"] * 5
