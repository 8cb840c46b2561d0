"""The ★ Dry run tab, end to end: a signed-in browser searches a deal by name and reads the
document the app would create; both sandboxes are read back to show nothing was created or
changed; then the deal is moved for real and Fortnox's document must equal the preview."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import requests

from integrations.models import HubSpotInstallation
from sync.models import CustomerMapping, PipelineSetting, Run, SyncSettings
from tests.flows import (
    FORTNOX_COMPANY,
    HUB,
    Portal,
    browser_connect_fortnox,
    browser_install,
    csrf_token,
    visible_text,
)
from tests.sync.test_runs_e2e import note_text, wait_for_app_properties, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE_ONE = {"name": "Konsult", "quantity": "1", "price": "1000", "hs_sku": "1"}


@pytest.fixture
def signed_in(world, celery_worker_process):
    """A browser signed in to HUB's settings page; Fortnox connected; Closed won → invoice."""
    with requests.Session() as browser:
        assert browser_install(world, browser, HUB).status_code == 200
        assert browser_connect_fortnox(world, browser, HUB, FORTNOX_COMPANY).status_code == 200
        installation = HubSpotInstallation.objects.get(hub_id=HUB)
        sync_settings = SyncSettings.objects.create(installation=installation)
        PipelineSetting.objects.create(
            settings=sync_settings,
            pipeline_id="default",
            pipeline_label="Sales Pipeline",
            trigger_stage_ids=["closedwon"],
            document_type="invoice",
        )
        wait_for_app_properties(installation)
        yield Portal(world, hub=HUB, company=FORTNOX_COMPANY), browser


class _Cells(HTMLParser):
    """The text of each cell of the table (or term/definition of the list) with a given id."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id, self.depth, self.rows, self.cell = element_id, 0, [], None

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth = 1
        if self.depth and tag in ("tr",):
            self.rows.append([])
        if self.depth and tag in ("td", "dt", "dd"):
            self.cell = ""

    def handle_endtag(self, tag):
        if self.depth and tag in ("td", "dt", "dd") and self.cell is not None:
            if tag == "dt" or not self.rows:
                self.rows.append([])
            self.rows[-1].append(re.sub(r"\s+", " ", self.cell).strip())
            self.cell = None
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def cells(html: str, element_id: str) -> list[list[str]]:
    parser = _Cells(element_id)
    parser.feed(html)
    return [row for row in parser.rows if row]


def money(text: str) -> Decimal:
    """An amount as the English page writes it: '12,000.00 SEK'."""
    return Decimal(text.replace("SEK", "").replace(",", "").strip())


def dry_run_page(world, browser, deal: str, query: str) -> str:
    search = browser.get(
        f"{world.app}/settings/{HUB}/dry-run/", params={"q": query}, timeout=30
    ).text
    link = re.search(rf'href="(\?q=[^"]*deal={deal})"', search)
    assert link, visible_text(search)
    page = browser.get(
        f"{world.app}/settings/{HUB}/dry-run/{link.group(1).replace('&amp;', '&')}", timeout=60
    )
    assert page.status_code == 200
    return page.text


def fortnox_state(portal: Portal) -> dict:
    return {r: portal.fortnox_records(r) for r in ("customers", "articles", "invoices", "orders")}


def test_the_preview_creates_nothing_and_the_real_run_creates_exactly_it(world, signed_in):
    portal, browser = signed_in
    SyncSettings.objects.update(not_found_policy="create_article")
    for article in (
        {"ArticleNumber": "CONS", "Description": "Consulting", "VAT": 25},
        {"ArticleNumber": "BOOK", "Description": "Handbook", "VAT": 6},
    ):
        created = portal.fortnox_api("POST", "articles", json={"Article": article})
        assert created.status_code == 201, created.text
    company = portal.create(
        "companies", {"name": "Provkund AB", "fortnox_organisation_number": "556987-6543"}
    )
    deal = portal.deal(
        [
            {
                "name": "Consulting",
                "quantity": "10",
                "price": "1200",
                "hs_sku": "CONS",
                "hs_tax_rate": "25",
            },
            {
                "name": "Licence",
                "quantity": "3",
                "price": "499.50",
                "hs_sku": "LIC",
                "hs_discount_percentage": "10",
                "hs_tax_rate": "25",
            },
            # No tax rate in HubSpot: the article's own VAT (6 %) applies.
            {"name": "Handbook", "quantity": "2", "price": "199.99", "hs_sku": "BOOK"},
        ],
        company=company,
        name="Provkund onboarding",
    )
    before = fortnox_state(portal)
    deal_before = portal.record("deals", deal)["properties"]

    page = dry_run_page(world, browser, deal, "onboarding")

    text = visible_text(page)
    assert "Draft invoice for Provkund onboarding" in text
    assert "An invoice, as the pipeline Sales Pipeline is set to create." in text
    assert "Not found in Fortnox: a new customer would be created" in text
    assert "556987-6543" in text and "Provkund AB" in text
    assert "The customer Provkund AB has no address" in text
    assert "The article LIC (Licence) will be created in Fortnox." in text
    assert "Fortnox: create the customer Provkund AB." in text
    assert (
        f"HubSpot: set fortnox_customer_number = the new customer's number on company {company}."
        in text
    )
    rows = cells(page, "rows")
    assert [r[0].split()[0] for r in rows] == ["CONS", "LIC", "BOOK"]
    assert [r[5] for r in rows] == ["25 %", "25 %", "6 %"]
    totals = dict(cells(page, "totals"))
    # What HubSpot says: each row's net is its line item's amount, and they add up to the net.
    line_items = [
        portal.record("line_items", str(i))["properties"]
        for i in portal.record("deals", deal)["associations"]["line_items"]
    ]
    amounts = sorted(Decimal(li["amount"]) for li in line_items)
    assert sorted(money(r[6]) for r in rows) == amounts
    assert money(totals["Net"]) == sum(amounts)

    # Nothing was created or changed, in Fortnox, HubSpot or our database.
    assert fortnox_state(portal) == before
    assert portal.record("deals", deal)["properties"] == deal_before
    assert portal.notes(deal) == []
    assert not portal.record("companies", company)["properties"].get("fortnox_customer_number")
    assert not Run.objects.exists() and not CustomerMapping.objects.exists()

    # The money rule: the real run creates exactly what the preview showed.
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    sent = [
        [
            r["ArticleNumber"],
            Decimal(str(r["DeliveredQuantity"])),
            Decimal(str(r["Price"])),
            Decimal(str(r["VAT"])),
            Decimal(str(r["TotalExcludingVAT"])),
        ]
        for r in invoice["InvoiceRows"]
    ]
    shown = [
        [
            r[0].split()[0],
            Decimal(r[2].replace(",", "")),
            money(r[3]),
            Decimal(r[5].rstrip(" %")),
            money(r[6]),
        ]
        for r in rows
    ]
    assert sent == shown
    assert [r["Description"] for r in invoice["InvoiceRows"]] == [r[1] for r in rows]
    assert Decimal(str(invoice["Net"])) == money(totals["Net"])
    assert Decimal(str(invoice["TotalVAT"])) == money(totals["VAT"])
    assert Decimal(str(invoice["Total"])) == money(totals["Total"])
    assert Decimal(str(invoice["RoundOff"])) == money(totals.get("Rounding", "0"))
    # Previewed again, the deal says it already has its invoice.
    again = visible_text(dry_run_page(world, browser, deal, "onboarding"))
    assert (
        f"This deal already has Fortnox invoice {run.fortnox_document_number} (run {run.pk})"
        in again
    )


def test_a_failing_deal_shows_the_notes_message_and_fix_in_swedish(world, signed_in):
    portal, browser = signed_in
    deal = portal.deal(
        [
            {"name": "Konsult", "quantity": "1", "price": "1000", "hs_sku": "1"},
            {"name": "Utan SKU", "quantity": "1", "price": "10"},
        ],
        name="Saknar artikelnummer",
    )
    settings_page = browser.get(f"{world.app}/settings/{HUB}/dry-run/", timeout=10).text
    switched = browser.post(
        f"{world.app}/i18n/setlang/",
        data={
            "language": "sv",
            "next": f"/settings/{HUB}/dry-run/",
            "csrfmiddlewaretoken": csrf_token(settings_page),
        },
        timeout=10,
    )
    assert switched.status_code == 200

    page = visible_text(dry_run_page(world, browser, deal, "artikelnummer"))

    assert "Provkörning" in page
    assert "En riktig körning skulle stoppa här" in page
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "failed"
    note = note_text(portal, deal)
    # The preview says what the note says: the same message and the same fix, both in Swedish
    # (the page's language, and the portal's: the run's messages are in it).
    message = re.search(r"SKU får inte vara tomt[^.]*\.", page).group(0)
    assert message in note
    fix = "Ange SKU på produkten i HubSpot"
    assert fix in page and fix in note


def test_swedish_page_writes_amounts_the_swedish_way(world, signed_in):
    portal, browser = signed_in
    deal = portal.deal(
        [
            {
                "name": "Konsult",
                "quantity": "2",
                "price": "1234.5",
                "hs_sku": "1",
                "hs_tax_rate": "25",
            }
        ],
        name="Svensk prisbild",
    )
    browser.cookies.set("django_language", "sv")

    page = dry_run_page(world, browser, deal, "prisbild")

    totals = dict(cells(page, "totals"))
    assert totals["Netto"] == "2 469,00 kr"
    assert totals["Moms"] == "617,25 kr"
    assert totals["Öresavrundning"] == "-0,25 kr"
    assert totals["Totalt"] == "3 086,00 kr"
    assert "Utkast till faktura för Svensk prisbild" in visible_text(page)


def test_the_search_lists_the_deals_whose_name_matches(world, signed_in):
    portal, browser = signed_in
    wanted = portal.deal([LINE_ONE], name="Årsavtal Norrland")
    other = portal.deal([LINE_ONE], name="Konsultstöd Skåne")
    url = f"{world.app}/settings/{HUB}/dry-run/"

    found = browser.get(url, params={"q": "norrland"}, timeout=30).text
    empty = browser.get(url, params={"q": ""}, timeout=30).text

    assert [a for a in re.findall(r"deal=(\d+)", found)] == [wanted]
    assert other not in re.findall(r"deal=(\d+)", found)
    assert "Årsavtal Norrland" in visible_text(found)
    assert "Deal name: type a word of the deal's name." in visible_text(empty)
