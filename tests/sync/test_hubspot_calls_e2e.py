"""What a document costs in HubSpot calls (issue 18), read from the HubSpot sandbox's own request
log: a repeat customer's run makes exactly the calls listed, a product is read only for a line
item that lacks its name or SKU, and the deal properties of runs finishing together share batch
updates, each deal ending with its own values and a deleted deal costing only its own."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import transaction

from integrations.models import HubSpotInstallation
from sync.deliveries import deliveries_create, delivery_send, properties_spec
from sync.models import Delivery, Run
from tests.flows import Portal
from tests.sync.test_runs_e2e import (
    SHARED_TOOLS,
    note_text,
    portal_ready,
    requests_audited,
    wait_for_runs,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


ID = re.compile(r"/\d+(?=/|$)")


def hubspot_calls(portal: Portal) -> list[tuple[str, str]]:
    """The portal's HubSpot API calls as HubSpot's side logged them, in order, record ids shown
    as {id}."""
    log = portal.world.hubspot_admin("GET", f"/_sandbox/requests?portal={portal.hub}")
    return [(e["method"], ID.sub("/{id}", e["path"])) for e in log]


def clear_hubspot_log(portal: Portal) -> None:
    portal.world.hubspot_admin("DELETE", "/_sandbox/requests")


def articles(portal: Portal, *pairs: tuple[str, str]) -> None:
    for sku, name in pairs:
        created = portal.fortnox_api(
            "POST", "articles", json={"Article": {"ArticleNumber": sku, "Description": name}}
        )
        assert created.status_code == 201, created.text


# The calls of one invoice for a customer the app already knows, whose line items carry their
# SKU and name (HubSpot copies them from the product when the line item is made).
REPEAT_CUSTOMER_CALLS = [
    ("GET", "/crm/v3/objects/deals/{id}"),  # the deal with its associations
    ("POST", "/crm/v3/objects/line_items/batch/read"),  # its line items, 100 per call
    ("GET", "/crm/v3/objects/companies/{id}"),  # the customer, always read fresh
    ("POST", "/files/v3/files"),  # the document's PDF
    ("POST", "/crm/v3/objects/notes"),  # the note
    ("PATCH", "/crm/v3/objects/deals/{id}"),  # the deal's Fortnox properties
]


def test_a_repeat_customers_invoice_makes_exactly_six_hubspot_calls_and_reads_no_product(portal):
    articles(portal, ("CONS", "Consulting"), ("LIC", "Licence"))
    company = portal.create(
        "companies", {"name": "Stamkund AB", "fortnox_organisation_number": "556677-8899"}
    )
    lines = [
        {"quantity": "10", "price": "1200", "product": {"name": "Consulting", "hs_sku": "CONS"}},
        {"quantity": "2", "price": "499.50", "product": {"name": "Licence", "hs_sku": "LIC"}},
    ]
    first = portal.deal(lines, company=company)
    portal.move(first)
    [first_run] = wait_for_runs(first)
    assert first_run.status == "succeeded", first_run.error_message

    deal = portal.deal(lines, company=company, name="Second order")
    clear_hubspot_log(portal)  # the test's own set-up is not the app's
    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    assert run.fortnox_customer_number == first_run.fortnox_customer_number
    assert sorted(hubspot_calls(portal)) == sorted(REPEAT_CUSTOMER_CALLS)
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert [r["ArticleNumber"] for r in invoice["InvoiceRows"]] == ["CONS", "LIC"]
    assert [r["Description"] for r in invoice["InvoiceRows"]] == ["Consulting", "Licence"]
    assert Decimal(str(invoice["Net"])) == Decimal("12999.00")
    assert f"Fortnox invoice {run.fortnox_document_number} created" in note_text(portal, deal)
    properties = portal.record("deals", deal)["properties"]
    assert properties["fortnox_document_number"] == run.fortnox_document_number


def test_line_items_with_only_a_product_link_read_their_products_in_one_call(portal):
    articles(portal, ("WID-1", "Widget"), ("GAD-2", "Gadget"), ("KIT", "Kit"))
    # Products made without a SKU, so their line items carry none; the SKUs are set on the
    # products afterwards (HubSpot does not copy a product's later changes to its line items).
    widget = portal.create("products", {"name": "Widget"})
    gadget = portal.create("products", {"name": "Gadget"})
    deal = portal.deal(
        [
            {"quantity": "1", "price": "100", "hs_product_id": widget},
            {"quantity": "2", "price": "50", "hs_product_id": gadget},
            {"quantity": "1", "price": "10", "product": {"name": "Kit", "hs_sku": "KIT"}},
        ]
    )
    for product, sku in ((widget, "WID-1"), (gadget, "GAD-2")):
        portal.world.hubspot_admin(
            "PATCH",
            f"/_sandbox/portals/{portal.hub}/objects/products/{product}",
            json={"properties": {"hs_sku": sku}},
        )
    clear_hubspot_log(portal)

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert [r["ArticleNumber"] for r in invoice["InvoiceRows"]] == ["WID-1", "GAD-2", "KIT"]
    log = portal.world.hubspot_admin(
        "GET", f"/_sandbox/requests?portal={portal.hub}&path_prefix=/crm/v3/objects/products"
    )
    # One call for both products; the line item that carries its SKU costs no product read.
    assert [(e["method"], e["path"]) for e in log] == [
        ("POST", "/crm/v3/objects/products/batch/read")
    ]
    asked = sorted(str(i["id"]) for i in log[0]["body"]["inputs"])
    assert asked == sorted([widget, gadget])


def test_ten_runs_finishing_together_write_their_deal_properties_in_fewer_calls(portal, tmp_path):
    deals = [
        portal.deal([{"name": f"Line {i}", "quantity": "1", "price": str(100 + i), "hs_sku": "1"}])
        for i in range(10)
    ]
    clear_hubspot_log(portal)

    for deal in deals:
        portal.move(deal)
    runs = [wait_for_runs(deal, timeout=120)[0] for deal in deals]

    assert [r.status for r in runs] == ["succeeded"] * 10, [r.error_message for r in runs]
    writes = [
        call
        for call in hubspot_calls(portal)
        if call
        in (("PATCH", "/crm/v3/objects/deals/{id}"), ("POST", "/crm/v3/objects/deals/batch/update"))
    ]
    assert ("POST", "/crm/v3/objects/deals/batch/update") in writes
    assert len(writes) < 10, writes
    for deal, run in zip(deals, runs, strict=True):
        properties = portal.record("deals", deal)["properties"]
        assert properties["fortnox_document_number"] == run.fortnox_document_number
        assert properties["fortnox_status"] == "created"
        invoice = portal.fortnox_record("invoices", run.fortnox_document_number)
        assert invoice["ExternalInvoiceReference1"] == run.external_reference
    delivered = Delivery.objects.filter(run__in=runs, kind="properties")
    assert sorted(d.status for d in delivered) == ["delivered"] * 10
    if SHARED_TOOLS.is_dir():  # the batch update as HubSpot's SDK sends it (the contract audit)
        requests_audited(portal, tmp_path)


def three_finished_runs(portal, first_number: int) -> tuple[HubSpotInstallation, list, list]:
    """Three deals with a succeeded run each (invoices first_number, +1, +2), their properties
    not yet written."""
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    deals = [portal.deal([]) for _ in range(3)]
    runs = [
        Run.objects.create(
            installation=installation,
            subject_id=deal,
            kind="invoice",
            trigger="workflow",
            trigger_key=f"test:{deal}",
            status="succeeded",
            fortnox_document_number=str(first_number + n),
        )
        for n, deal in enumerate(deals)
    ]
    return installation, deals, runs


def test_a_batch_with_a_deleted_deal_gives_that_one_up_with_its_reason_and_lands_the_rest(portal):
    installation, deals, runs = three_finished_runs(portal, first_number=70)
    portal.world.hubspot_admin("DELETE", f"/_sandbox/portals/{portal.hub}/objects/deals/{deals[1]}")
    clear_hubspot_log(portal)
    with transaction.atomic():  # three runs ending at once
        made = deliveries_create(
            installation,
            [
                properties_spec(
                    "deals",
                    run.subject_id,
                    {
                        "fortnox_status": "created",
                        "fortnox_document_number": run.fortnox_document_number,
                    },
                    sequence=run.pk,
                )
                for run in runs
            ],
        )

    # The first attempt (here, before the worker's tasks are due) takes the others along.
    delivery_send(made[0].pk)

    kept, deleted, other = (Delivery.objects.get(pk=d.pk) for d in made)
    assert (kept.status, deleted.status, other.status) == ("delivered", "gave_up", "delivered")
    assert deleted.attempts == 1  # a deleted deal is not worth a second try
    assert f"HubSpot cannot find the deal {deals[1]}" in deleted.gave_up_reason
    for deal, run in ((deals[0], runs[0]), (deals[2], runs[2])):
        properties = portal.record("deals", deal)["properties"]
        assert properties["fortnox_document_number"] == run.fortnox_document_number
        assert properties["fortnox_status"] == "created"
    log = portal.world.hubspot_admin("GET", f"/_sandbox/requests?portal={portal.hub}")
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/crm/v3/objects/deals/batch/update", 207)
    ]
    assert [a.outcome for a in deleted.attempt_log.all()] == ["gave_up"]


def test_a_batch_refused_as_a_whole_is_sent_deal_by_deal_so_one_bad_input_costs_only_itself(
    portal,
):
    installation, deals, runs = three_finished_runs(portal, first_number=80)
    # The middle one names a property the portal does not have: HubSpot refuses the whole
    # batch for it (400), updating nothing.
    values = [
        {"fortnox_status": "created", "fortnox_document_number": run.fortnox_document_number}
        for run in runs
    ]
    values[1]["no_such_property"] = "x"
    clear_hubspot_log(portal)
    with transaction.atomic():
        made = deliveries_create(
            installation,
            [
                properties_spec("deals", run.subject_id, properties, sequence=run.pk)
                for run, properties in zip(runs, values, strict=True)
            ],
        )

    delivery_send(made[0].pk)

    first, bad, last = (Delivery.objects.get(pk=d.pk) for d in made)
    assert (first.status, bad.status, last.status) == ("delivered", "gave_up", "delivered")
    assert f"HubSpot refused to save the deal {deals[1]}" in bad.gave_up_reason
    assert "no_such_property" in bad.gave_up_reason
    for deal, run in ((deals[0], runs[0]), (deals[2], runs[2])):
        properties = portal.record("deals", deal)["properties"]
        assert properties["fortnox_document_number"] == run.fortnox_document_number
    log = portal.world.hubspot_admin("GET", f"/_sandbox/requests?portal={portal.hub}")
    assert [(e["method"], ID.sub("/{id}", e["path"]), e["status"]) for e in log] == [
        ("POST", "/crm/v3/objects/deals/batch/update", 400),
        ("PATCH", "/crm/v3/objects/deals/{id}", 200),
        ("PATCH", "/crm/v3/objects/deals/{id}", 400),
        ("PATCH", "/crm/v3/objects/deals/{id}", 200),
    ]
