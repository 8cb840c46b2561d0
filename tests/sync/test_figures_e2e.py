"""Financial figures and the payment status back to the deal (issue 16, sync/figures.py),
through both sandboxes. The expected figures are computed in the test from Fortnox's own data
(Total, Balance, CurrencyRate, CurrencyUnit of each invoice read back from the Fortnox sandbox),
never taken from the service; what is asserted is what a user sees: the figures the card shows,
the properties on the HubSpot records, the note on the deal, the calls made to Fortnox."""

from __future__ import annotations

import datetime as dt
import time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from integrations.models import HubSpotInstallation
from sync import figures
from sync.models import CustomerMapping, Delivery, FiguresRefresh
from tests.flows import FORTNOX_NO_ORDER_COMPANY, OTHER_HUB, Portal, visible_text
from tests.sync.test_customer_sync_e2e import sync_now
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {
    "name": "Konsulttimme",
    "quantity": "2",
    "price": "1000",
    "product": {"name": "Konsulttimme", "hs_sku": "1"},
}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def installation(portal: Portal) -> HubSpotInstallation:
    return HubSpotInstallation.objects.get(hub_id=portal.hub)


def swedish_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Stockholm")).date()


# -- Fortnox, as the bookkeeper works in it ------------------------------------------------------
def invoice(portal: Portal, customer: str, price: float = 1000, **header) -> str:
    body = {
        "Invoice": {
            "CustomerNumber": customer,
            "InvoiceRows": [{"ArticleNumber": "1", "DeliveredQuantity": 1, "Price": price}],
            **header,
        }
    }
    response = portal.fortnox_api("POST", "invoices", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["Invoice"]["DocumentNumber"])


def act(portal: Portal, kind: str, number: str, action: str) -> dict:
    response = portal.fortnox_api("PUT", f"{kind}/{number}/{action}")
    assert response.status_code == 200, response.text
    return response.json()


def book(portal: Portal, number: str) -> None:
    act(portal, "invoices", number, "bookkeep")


def pay(portal: Portal, number: str) -> None:
    """The customer pays the whole invoice; finance registers and books the payment in Fortnox
    (an invoice in SEK: the amount is its balance)."""
    record = portal.fortnox_record("invoices", number)
    response = portal.fortnox_api(
        "POST",
        "invoicepayments",
        json={
            "InvoicePayment": {
                "InvoiceNumber": int(number),
                "Amount": record["Balance"],
                "PaymentDate": swedish_today().isoformat(),
            }
        },
    )
    assert response.status_code == 201, response.text
    payment = response.json()["InvoicePayment"]["Number"]
    booked = portal.fortnox_api("PUT", f"invoicepayments/{payment}/bookkeep")
    assert booked.status_code == 200, booked.text


def customer(portal: Portal, number: str, name: str) -> None:
    response = portal.fortnox_api(
        "POST", "customers", json={"Customer": {"CustomerNumber": number, "Name": name}}
    )
    assert response.status_code == 201, response.text


def fortnox_invoices_of(portal: Portal, customer_number: str) -> list[dict]:
    """The customer's invoices as Fortnox stores them (the sandbox's raw records: no rate
    limit)."""
    return [
        rec
        for rec in portal.fortnox_records("invoices")
        if str(rec["CustomerNumber"]) == customer_number
    ]


def ore(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_figures(
    portal: Portal, customer_number: str, today: dt.date | None = None
) -> dict[str, Decimal]:
    """From Fortnox's own numbers: booked, not cancelled invoices, each converted to SEK with
    its CurrencyRate per CurrencyUnit; overdue is the balance past its due date of invoices not
    credited."""
    day = (today or swedish_today()).isoformat()
    total = balance = overdue = Decimal(0)
    for inv in fortnox_invoices_of(portal, customer_number):
        if not inv["Booked"] or inv["Cancelled"]:
            continue
        rate = Decimal(str(inv["CurrencyRate"])) / Decimal(str(inv["CurrencyUnit"]))
        total += Decimal(str(inv["Total"])) * rate
        left = Decimal(str(inv["Balance"])) * rate
        balance += left
        credit = str(inv.get("Credit")) == "true"
        credited = not credit and str(inv.get("CreditInvoiceReference") or "0") != "0"
        if left > 0 and inv["DueDate"] < day and not credit and not credited:
            overdue += left
    return {"total": ore(total), "balance": ore(balance), "overdue": ore(overdue)}


def hubspot_figures(portal: Portal, object_type: str, object_id: str) -> dict[str, Decimal]:
    props = portal.record(object_type, object_id)["properties"]
    return {
        "total": Decimal(props["fortnox_total_invoiced"]),
        "balance": Decimal(props["fortnox_unpaid_balance"]),
        "overdue": Decimal(props["fortnox_overdue_amount"]),
    }


def view_figures(view: figures.CustomerFiguresView) -> dict[str, Decimal]:
    return {"total": view.total_invoiced, "balance": view.balance, "overdue": view.overdue}


def company_of_customer_1(portal: Portal) -> str:
    """A HubSpot company linked to Fortnox customer 1 by an Update (a customer sync)."""
    company = portal.create(
        "companies", {"name": "Exempelkunden AB", "fortnox_customer_number": "1"}
    )
    run = sync_now(portal, "companies", company, "link")
    assert run.status == "succeeded", run.error_message
    assert CustomerMapping.objects.get(hubspot_object_id=company).fortnox_customer_number == "1"
    return company


# -- tests ---------------------------------------------------------------------------------------
def every_kind_of_invoice(portal: Portal) -> dict[str, str]:
    """Fortnox customer 1 with a paid, an unpaid, an overdue, a credited (and its booked credit
    invoice), a cancelled and a EUR invoice; customers 10 and 11 (found by a substring search
    for 1) with a booked invoice each. The invoice numbers by name ("others": 10's and 11's)."""
    customer(portal, "10", "Tio AB")
    customer(portal, "11", "Elva AB")
    past = (swedish_today() - dt.timedelta(days=40)).isoformat()
    due_past = (swedish_today() - dt.timedelta(days=10)).isoformat()
    made = {
        "paid": invoice(portal, "1", 1000),
        "unpaid": invoice(portal, "1", 2000),
        "overdue": invoice(portal, "1", 400, InvoiceDate=past, DueDate=due_past),
        "credited": invoice(portal, "1", 300, InvoiceDate=past, DueDate=due_past),
        "cancelled": invoice(portal, "1", 5000),
        "euro": invoice(portal, "1", 100, Currency="EUR"),
    }
    for name in ("paid", "unpaid", "overdue", "credited", "euro"):
        book(portal, made[name])
    pay(portal, made["paid"])
    credit = act(portal, "invoices", made["credited"], "credit")
    made["credit_invoice"] = str(credit["Invoice"]["DocumentNumber"])
    book(portal, made["credit_invoice"])
    act(portal, "invoices", made["cancelled"], "cancel")
    others = [invoice(portal, "10", 7000), invoice(portal, "11", 9000)]
    for number in others:
        book(portal, number)
    made["others"] = others
    return made


def test_a_customers_figures_count_booked_invoices_in_sek_and_never_customers_10_and_11(portal):
    company = company_of_customer_1(portal)
    made = every_kind_of_invoice(portal)
    paid, unpaid, overdue = made["paid"], made["unpaid"], made["overdue"]
    credited, cancelled, euro = made["credited"], made["cancelled"], made["euro"]
    credit_invoice, others = made["credit_invoice"], made["others"]

    view = figures.customer_figures_refresh(installation(portal), "0-2", company)

    expected = expected_figures(portal, "1")
    eur = portal.fortnox_record("invoices", euro)
    assert eur["Currency"] == "EUR" and Decimal(str(eur["CurrencyRate"])) != 1
    assert view_figures(view) == expected
    assert hubspot_figures(portal, "companies", company) == expected
    props = portal.record("companies", company)["properties"]
    assert props["fortnox_customer_number"] == "1"
    assert props["fortnox_financials_synced_at"]
    # Customers 10 and 11 are found by the substring search, and left out.
    assert expected["total"] < Decimal(7000)
    # Newest first: by date, then by number.
    assert [i.number for i in view.latest_invoices] == [
        i.number
        for i in sorted(view.latest_invoices, key=lambda i: (i.date, int(i.number)), reverse=True)
    ]
    assert view.latest_invoices[0].number == credit_invoice  # dated today, the last made
    listed = {i.number: i for i in view.latest_invoices}
    assert not set(others) & set(listed)
    assert listed[paid].status == figures.PAID
    assert listed[unpaid].status == figures.UNPAID
    assert listed[overdue].status == figures.OVERDUE
    assert listed[credited].status == figures.CREDITED
    assert listed[cancelled].status == figures.CANCELLED
    assert (listed[euro].currency, listed[euro].total) == ("EUR", Decimal(str(eur["Total"])))
    assert view.customer_number == "1" and "1" in view.customer_url

    # What the card shows later comes from the stored figures, without asking Fortnox.
    stored = figures.customer_figures_get(installation(portal), "companies", company)
    assert view_figures(stored) == expected


def test_perform_sync_after_new_invoices_appear_in_fortnox(portal):
    company = company_of_customer_1(portal)
    first = invoice(portal, "1", 1000)
    book(portal, first)
    before = figures.customer_figures_refresh(installation(portal), "companies", company)
    assert view_figures(before) == expected_figures(portal, "1")

    later = invoice(portal, "1", 2500)
    book(portal, later)
    after = figures.customer_figures_refresh(installation(portal), "companies", company)

    assert view_figures(after) == expected_figures(portal, "1")
    assert after.total_invoiced > before.total_invoiced
    assert later in {i.number for i in after.latest_invoices}
    assert hubspot_figures(portal, "companies", company) == expected_figures(portal, "1")


def test_every_record_mapped_to_the_customer_gets_its_figures(portal):
    company = company_of_customer_1(portal)
    branch = portal.create("companies", {"name": "Exempelkunden AB, filial"})
    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/companies/{branch}",
        json={"properties": {"fortnox_customer_number": "1"}},
    )
    run = sync_now(portal, "companies", branch, "branch")
    assert run.status == "succeeded", run.error_message
    number = invoice(portal, "1", 1200)
    book(portal, number)

    figures.customer_figures_refresh(installation(portal), "companies", company)

    expected = expected_figures(portal, "1")
    assert hubspot_figures(portal, "companies", company) == expected
    assert hubspot_figures(portal, "companies", branch) == expected


def test_a_record_without_a_fortnox_customer_and_a_portal_without_fortnox(portal):
    lonely = portal.create("companies", {"name": "Ny AB"})
    with pytest.raises(figures.FiguresUnavailable) as no_customer:
        figures.customer_figures_get(installation(portal), "0-2", lonely)
    assert no_customer.value.code == "no_customer"
    assert "Update" in no_customer.value.fix

    inst = installation(portal)
    inst.fortnox_connections.update(status="disconnected")
    with pytest.raises(figures.FiguresUnavailable) as not_connected:
        figures.customer_figures_refresh(inst, "0-2", lonely)
    assert not_connected.value.code == "not_connected"
    assert figures.deal_documents_get(inst, "123") == []


def deal_with_document(portal: Portal) -> tuple[str, str]:
    deal = portal.deal([LINE])
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    return deal, run.fortnox_document_number


def deal_properties(portal: Portal, deal: str) -> tuple[str, Decimal]:
    props = portal.record("deals", deal)["properties"]
    return props.get("fortnox_document_status", ""), Decimal(
        props.get("fortnox_document_balance") or "NaN"
    )


def test_the_deal_says_paid_once_its_invoice_is_booked_and_paid_in_fortnox(portal):
    deal, number = deal_with_document(portal)
    inst = installation(portal)
    [made] = figures.deal_documents_get(inst, deal)  # before any reading: as the run made it
    assert (made.number, made.status) == (number, figures.DRAFT)

    [draft] = figures.deal_documents_refresh(inst, deal)
    assert (draft.kind, draft.number, draft.status) == ("invoice", number, figures.DRAFT)
    assert deal_properties(portal, deal)[0] == "draft"

    book(portal, number)
    [booked] = figures.deal_documents_refresh(inst, deal)
    total = Decimal(str(portal.fortnox_record("invoices", number)["Total"]))
    assert booked.status == figures.UNPAID
    assert deal_properties(portal, deal) == ("unpaid", total)

    pay(portal, number)
    [paid] = figures.deal_documents_refresh(inst, deal)
    balance = Decimal(str(portal.fortnox_record("invoices", number)["Balance"]))
    assert balance == 0
    assert paid.status == figures.PAID
    assert deal_properties(portal, deal) == ("paid", Decimal("0"))
    assert figures.deal_documents_get(inst, deal)[0].status == figures.PAID


def test_an_orders_payment_is_followed_through_its_invoice(world, celery_worker_process):
    portal = portal_ready(world, document_type="order")
    deal, order = deal_with_document(portal)
    inst = installation(portal)
    [fresh] = figures.deal_documents_refresh(inst, deal)
    assert (fresh.kind, fresh.invoice) == ("order", None)

    made = act(portal, "orders", order, "createinvoice")["Invoice"]
    invoice_number = str(made["DocumentNumber"])
    book(portal, invoice_number)
    pay(portal, invoice_number)
    [followed] = figures.deal_documents_refresh(inst, deal)

    assert followed.number == order
    assert followed.invoice is not None and followed.invoice.number == invoice_number
    assert followed.invoice.status == figures.PAID
    assert deal_properties(portal, deal) == ("paid", Decimal("0"))


def fortnox_log(portal: Portal, prefix: str) -> list[dict]:
    return portal.world.fortnox_admin(
        "GET", "/_sandbox/requests", params={"company": portal.company, "path_prefix": prefix}
    )


def test_the_nightly_run_picks_up_a_payment_with_one_paged_lastmodified_call(portal):
    company = company_of_customer_1(portal)
    deal, number = deal_with_document(portal)
    inst = installation(portal)
    book(portal, number)
    first_invoice = invoice(portal, "1", 1500)
    book(portal, first_invoice)

    figures.figures_nightly(inst)  # the first night: the customers and deals the app knows
    assert deal_properties(portal, deal)[0] == "unpaid"
    assert hubspot_figures(portal, "companies", company) == expected_figures(portal, "1")
    cursor = FiguresRefresh.objects.get(installation=inst).modified_since
    assert cursor is not None

    pay(portal, number)
    pay(portal, first_invoice)
    portal.world.fortnox_admin("DELETE", "/_sandbox/requests")
    figures.figures_nightly(inst)

    assert deal_properties(portal, deal) == ("paid", Decimal("0"))
    assert hubspot_figures(portal, "companies", company) == expected_figures(portal, "1")
    lists = [r for r in fortnox_log(portal, "/3/invoices") if r["method"] == "GET" and r["query"]]
    lists = [r for r in lists if "lastmodified" in str(r["query"])]
    assert len(lists) == 1, lists
    stamp = (cursor - figures.NIGHTLY_OVERLAP).astimezone(ZoneInfo("Europe/Stockholm"))
    assert stamp.strftime("%Y-%m-%d %H:%M") in str(lists[0]["query"])
    # No customer's invoices were listed again: the changes came from the one call.
    assert not [r for r in fortnox_log(portal, "/3/invoices") if "customernumber" in str(r)]
    refresh = FiguresRefresh.objects.get(installation=inst)
    assert refresh.outcome.startswith("succeeded") and refresh.modified_since > cursor


def wait_for_deliveries(deal: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Delivery.objects.filter(
            payload__object_id=deal, status=Delivery.Status.PENDING
        ).exists():
            return
        time.sleep(0.2)
    raise AssertionError("the deal's deliveries were not sent")


def test_a_draft_cancelled_in_fortnox_leaves_a_note_saying_create_again(portal):
    deal, number = deal_with_document(portal)
    inst = installation(portal)
    notes_before = len(portal.notes(deal))
    act(portal, "invoices", number, "cancel")

    [cancelled] = figures.deal_documents_refresh(inst, deal)
    wait_for_deliveries(deal)

    assert cancelled.status == figures.CANCELLED
    assert deal_properties(portal, deal)[0] == "cancelled"
    texts = [visible_text(n["properties"]["hs_note_body"]) for n in portal.notes(deal)]
    assert len(texts) == notes_before + 1
    note = next(t for t in texts if "cancelled" in t.lower())
    assert f"Finance cancelled invoice {number} in Fortnox." in note
    assert "Create again" in note

    # Seen cancelled again: no second note.
    figures.deal_documents_refresh(inst, deal)
    wait_for_deliveries(deal)
    assert len(portal.notes(deal)) == notes_before + 1


def test_an_install_from_before_the_status_properties_gets_them_on_the_first_write(portal):
    """hubspot_properties_ensure runs at install: a portal installed before the deal's status
    properties existed has none, and the first write creates them, then writes."""
    from integrations.hubspot.client import HubSpotClient

    inst = installation(portal)
    client = HubSpotClient(inst)
    for name in ("fortnox_document_status", "fortnox_document_balance"):
        client.call(
            "deal property",
            "DELETE /crm/v3/properties/deals/{name}",
            lambda c: c.crm.properties.core_api.archive,
            "deals",
            name,
        )
    deal, number = deal_with_document(portal)
    book(portal, number)
    portal.world.hubspot_admin("DELETE", "/_sandbox/requests")

    figures.deal_documents_refresh(inst, deal)

    created = portal.world.hubspot_admin(
        "GET",
        "/_sandbox/requests",
        params={"portal": portal.hub, "path_prefix": "/crm/v3/properties/deals/batch/create"},
    )
    assert len(created) == 1, created
    total = Decimal(str(portal.fortnox_record("invoices", number)["Total"]))
    assert deal_properties(portal, deal) == ("unpaid", total)


def test_a_fortnox_company_that_refuses_at_night_is_recorded_and_the_others_go_on(
    world, celery_worker_process
):
    first = portal_ready(world)
    company_of_customer_1(first)
    second = portal_ready(world, hub=OTHER_HUB, company=FORTNOX_NO_ORDER_COMPANY)
    world.fortnox_admin("POST", "/_sandbox/faults/revoke-consent", json={"company": "1"})

    outcomes = figures.figures_nightly_all()

    refused = FiguresRefresh.objects.get(installation=installation(first))
    done = FiguresRefresh.objects.get(installation=installation(second))
    assert outcomes == {str(first.hub): "failed", str(second.hub): "succeeded"}
    assert refused.outcome.startswith("failed: ") and "Reconnect Fortnox" in refused.outcome
    assert refused.modified_since is None  # the next night starts from the same point
    assert done.outcome.startswith("succeeded") and done.modified_since is not None


def test_perform_sync_on_the_company_also_tells_its_deal_that_the_invoice_is_paid(portal):
    company = portal.create("companies", {"name": "Betalar AB"})
    deal = portal.deal([LINE], company=company)
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    book(portal, run.fortnox_document_number)
    pay(portal, run.fortnox_document_number)

    view = figures.customer_figures_refresh(installation(portal), "companies", company)

    assert view.customer_number == run.fortnox_customer_number
    assert deal_properties(portal, deal) == ("paid", Decimal("0"))
    assert hubspot_figures(portal, "companies", company) == expected_figures(
        portal, run.fortnox_customer_number
    )


def test_an_invoice_that_falls_due_is_overdue_the_next_night_though_fortnox_changed_nothing(
    portal,
):
    company = company_of_customer_1(portal)
    deal = portal.deal([LINE], company=company)
    portal.move(deal)
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    number = run.fortnox_document_number
    book(portal, number)
    inst = installation(portal)
    figures.figures_nightly(inst)
    assert deal_properties(portal, deal)[0] == "unpaid"
    assert hubspot_figures(portal, "companies", company)["overdue"] == 0

    due = dt.date.fromisoformat(portal.fortnox_record("invoices", number)["DueDate"])
    night = dt.datetime.combine(
        due + dt.timedelta(days=1), dt.time(2, 30), ZoneInfo("Europe/Stockholm")
    )
    figures.figures_nightly(inst, now=night)

    total = Decimal(str(portal.fortnox_record("invoices", number)["Total"]))
    assert deal_properties(portal, deal) == ("overdue", total)
    expected = expected_figures(portal, "1", today=night.date())
    assert expected["overdue"] >= total
    assert hubspot_figures(portal, "companies", company) == expected


def test_the_nightly_run_takes_the_bulk_share_of_the_fortnox_pace_and_perform_sync_does_not(
    portal, settings
):
    settings.FORTNOX_BULK_CALLS_PER_S = 1  # the suite gives bulk work the whole pace otherwise
    company = company_of_customer_1(portal)
    for _ in range(4):
        book(portal, invoice(portal, "1", 100))
    inst = installation(portal)
    portal.world.fortnox_admin("DELETE", "/_sandbox/requests")

    started = time.monotonic()
    figures.figures_nightly(inst)  # the first night: customer 1 in full
    night = time.monotonic() - started
    calls = len([r for r in fortnox_log(portal, "/3/") if r["method"] == "GET"])

    # The list and a full read of each invoice: one call per second after the first.
    assert calls >= 6
    assert night >= calls - 2
    # Perform Sync, pressed by a person, is paced by the company's limit only.
    book(portal, invoice(portal, "1", 100))
    started = time.monotonic()
    figures.customer_figures_refresh(inst, "companies", company)
    assert time.monotonic() - started < 2


def test_beats_nightly_task_refreshes_each_portal_in_the_worker(portal):
    from celery import current_app

    company = company_of_customer_1(portal)
    book(portal, invoice(portal, "1", 800))

    current_app.send_task("sync.tasks.figures_nightly_task")  # as beat sends it

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        refresh = FiguresRefresh.objects.filter(installation=installation(portal)).first()
        if refresh is not None and refresh.finished_at is not None:
            break
        time.sleep(0.3)
    else:
        raise AssertionError("the nightly refresh did not run in the worker")
    assert refresh.outcome.startswith("succeeded"), refresh.outcome
    assert hubspot_figures(portal, "companies", company) == expected_figures(portal, "1")
