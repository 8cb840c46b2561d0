"""The vendor invoices its own customers through Fortnox (issue 17 ★), end to end: staff connect
the vendor's company (the Fortnox sandbox's company 2) through Fortnox's consent from Django
admin, and create a portal's period invoice there with an admin action; the portal's own
Fortnox company (company 1) is never touched. Every figure asserted is Fortnox's own, read back
from the sandbox."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests
from django.contrib.auth.models import User

from billing.models import (
    BillingDetails,
    Plan,
    PortalPlan,
    UsageCredit,
    UsageRecord,
    VendorFortnoxConnection,
    VendorInvoice,
)
from billing.services import current_period
from billing.vendor_invoices import (
    VendorInvoiceRefused,
    ended_periods,
    vendor_invoice_create,
)
from integrations.fortnox.client import FortnoxClient
from integrations.models import FortnoxConnection, HubSpotInstallation
from sync.models import Run
from tests.flows import (
    FORTNOX_COMPANY,
    FORTNOX_NO_ORDER_COMPANY,
    HUB,
    Portal,
    browser_connect_fortnox,
    browser_install,
    csrf_token,
    visible_text,
)

pytestmark = pytest.mark.django_db(transaction=True)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
VENDOR_COMPANY = FORTNOX_NO_ORDER_COMPANY  # "Andra Bolaget AB": invoices, but another company
LAST_MONTH = ended_periods()[0]
ORG_NUMBER = "556036-0793"
STAFF_PASSWORD = "staff-password-1"  # noqa: S105 (a test user's)


@pytest.fixture
def plans():
    Plan.objects.update(is_default=False)
    free, _ = Plan.objects.update_or_create(
        code="free",
        defaults={"name": "Free", "monthly_quota": 10, "price": 0, "is_default": True},
    )
    standard, _ = Plan.objects.update_or_create(
        code="standard",
        defaults={"name": "Standard", "monthly_quota": 200, "price": Decimal("490.00")},
    )
    return {"free": free, "standard": standard}


@pytest.fixture
def staff(world):
    User.objects.create_superuser("billing-staff", password=STAFF_PASSWORD)
    with requests.Session() as browser:
        login = browser.get(f"{world.app}/admin/login/", timeout=10)
        page = browser.post(
            f"{world.app}/admin/login/?next=/admin/",
            data={
                "username": "billing-staff",
                "password": STAFF_PASSWORD,
                "csrfmiddlewaretoken": csrf_token(login.text),
            },
            timeout=10,
        )
        assert page.url == f"{world.app}/admin/", visible_text(page.text)
        yield browser


def connect_vendor(world, staff, company: str = VENDOR_COMPANY) -> requests.Response:
    """Staff press the link on the vendor connections list and approve `company`."""
    listing = staff.get(f"{world.app}/admin/billing/vendorfortnoxconnection/", timeout=10)
    link = re.search(r'href="([^"]+)" id="vendor-fortnox-connect"', listing.text)
    assert link, "no 'Connect the vendor's Fortnox company' link"
    start = staff.get(f"{world.app}{link.group(1)}", allow_redirects=False, timeout=10)
    assert start.status_code == 302
    consent = start.headers["Location"]
    assert consent.startswith(f"{world.fortnox}/oauth-v1/auth?")
    return staff.get(f"{consent}&sandbox_company={company}", timeout=30)


@pytest.fixture
def vendor(world, staff) -> VendorFortnoxConnection:
    page = connect_vendor(world, staff)
    assert page.url == f"{world.app}/admin/billing/vendorfortnoxconnection/"
    assert "The vendor's Fortnox company Andra Bolaget AB (559000-1235) is connected." in (
        visible_text(page.text)
    )
    return VendorFortnoxConnection.objects.get(status="connected")


@pytest.fixture
def portal(world, plans) -> HubSpotInstallation:
    """A portal with its own Fortnox company (1) connected, on Standard, with billing details
    and last month's counted documents (three, one credited)."""
    with requests.Session() as browser:
        assert browser_install(world, browser).status_code == 200
        assert browser_connect_fortnox(world, browser, company=FORTNOX_COMPANY).status_code == 200
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    PortalPlan.objects.create(installation=installation, plan=plans["standard"])
    BillingDetails.objects.create(
        installation=installation,
        legal_name="Nordljus Konsult AB",
        organisation_number=ORG_NUMBER,
        address="Storgatan 1",
        zip_code="111 22",
        city="Stockholm",
        country="SE",
        invoice_email="faktura@nordljus.example",
    )
    for number in (1, 2, 3):
        counted(installation, number)
    UsageCredit.objects.create(
        usage=UsageRecord.objects.get(installation=installation, document_number="3"),
        reason="a test deal",
        credited_by="billing-staff",
    )
    return installation


def counted(installation: HubSpotInstallation, number: int) -> UsageRecord:
    run = Run.objects.create(
        installation=installation,
        subject_id=str(8000 + number),
        kind="invoice",
        trigger="stage",
        trigger_key=f"stage:default:closedwon:{number}",
        status="succeeded",
        fortnox_document_number=str(number),
    )
    return UsageRecord.objects.create(
        installation=installation,
        run=run,
        period=LAST_MONTH,
        kind="invoice",
        document_number=str(number),
        deal_id=str(8000 + number),
        total=Decimal("100"),
        currency="SEK",
        counted_at=datetime(LAST_MONTH.year, LAST_MONTH.month, 10, 10, tzinfo=STOCKHOLM),
    )


def create_through_admin(world, staff, installation) -> str:
    """Staff tick the portal on the Portal plans list, choose the action and last month."""
    listing = staff.get(f"{world.app}/admin/billing/portalplan/", timeout=10)
    chosen = {
        "action": "vendor_invoices_create",
        "_selected_action": [PortalPlan.objects.get(installation=installation).pk],
        "csrfmiddlewaretoken": csrf_token(listing.text),
    }
    form = staff.post(f"{world.app}/admin/billing/portalplan/", data=chosen, timeout=10)
    assert "Create the vendor's draft Fortnox invoices" in visible_text(form.text)
    assert f'<option value="{LAST_MONTH.isoformat()}" selected>' in form.text
    done = staff.post(
        f"{world.app}/admin/billing/portalplan/",
        data={
            **chosen,
            "csrfmiddlewaretoken": csrf_token(form.text),
            "period": LAST_MONTH.isoformat(),
            "apply": "1",
        },
        timeout=60,
    )
    assert done.status_code == 200
    return visible_text(done.text)


def fortnox_invoices(world, company: str) -> list[dict]:
    return world.fortnox_admin("GET", f"/_sandbox/records/{company}/invoices")


def api_calls(world, company: str) -> list[dict]:
    return world.fortnox_admin("GET", f"/_sandbox/requests?company={company}&path_prefix=/3/")


def month_name() -> str:
    return f"{LAST_MONTH:%B %Y}"


def test_staff_connect_the_vendor_company_and_a_period_invoice_is_drafted_once(
    world, staff, vendor, portal
):
    portal_invoices = len(fortnox_invoices(world, FORTNOX_COMPANY))
    before = len(fortnox_invoices(world, VENDOR_COMPANY))

    shown = create_through_admin(world, staff, portal)

    invoice = VendorInvoice.objects.get(installation=portal, period=LAST_MONTH)
    assert invoice.status == "created", invoice.error_message
    assert (
        f"Portal {HUB}, {month_name()}: created draft Fortnox invoice {invoice.document_number}"
        in shown
    )
    bookkeeper = Portal(world, company=VENDOR_COMPANY)
    fortnox = bookkeeper.fortnox_api("GET", f"invoices/{invoice.document_number}").json()["Invoice"]
    # Fortnox's own figures: the plan's 490 + 25 % VAT (122.50), rounded to whole kronor by
    # Fortnox (RoundOff 0.50), in SEK; a draft.
    assert Decimal(str(fortnox["Net"])) == Decimal("490")
    assert Decimal(str(fortnox["TotalVAT"])) == Decimal("122.50")
    assert Decimal(str(fortnox["Total"])) == Decimal("613")
    assert fortnox["Currency"] == "SEK"
    assert fortnox["Booked"] is False and fortnox["Sent"] is False
    assert fortnox["ExternalInvoiceReference1"] == f"cloudify-billing-{HUB}-{LAST_MONTH:%Y-%m}"
    assert fortnox["CustomerName"] == "Nordljus Konsult AB"
    assert fortnox["OrganisationNumber"] == ORG_NUMBER
    assert (fortnox["Address1"], fortnox["ZipCode"], fortnox["City"]) == (
        "Storgatan 1",
        "111 22",
        "Stockholm",
    )
    rows = [
        (r["Description"], str(r["DeliveredQuantity"]), r["Price"]) for r in fortnox["InvoiceRows"]
    ]
    assert rows[0] == (
        f"Fortnox for HubSpot, plan Standard, {month_name()} (200 documents a month)",
        "1",
        490,
    )
    assert rows[1][0] == f"Documents created in {month_name()}: 2 of 200 (1 credited)"
    customer = bookkeeper.fortnox_api("GET", f"customers/{fortnox['CustomerNumber']}").json()[
        "Customer"
    ]
    assert customer["Type"] == "COMPANY"
    assert customer["EmailInvoice"] == "faktura@nordljus.example"
    # What we stored is what Fortnox answered.
    assert invoice.total == Decimal("613") and invoice.currency == "SEK"

    again = create_through_admin(world, staff, portal)

    assert f"Portal {HUB}, {month_name()}: already created" in again
    assert len(fortnox_invoices(world, VENDOR_COMPANY)) == before + 1
    assert len(fortnox_invoices(world, FORTNOX_COMPANY)) == portal_invoices
    # Listed for staff, read-only.
    listing = visible_text(staff.get(f"{world.app}/admin/billing/vendorinvoice/", timeout=10).text)
    assert invoice.document_number in listing and "billing-staff" in listing


def test_an_existing_vendor_customer_with_the_org_number_is_reused(world, vendor, portal):
    bookkeeper = Portal(world, company=VENDOR_COMPANY)
    made = bookkeeper.fortnox_api(
        "POST",
        "customers",
        json={"Customer": {"Name": "Nordljus AB (old name)", "OrganisationNumber": "5560360793"}},
    )
    assert made.status_code == 201, made.text
    existing = made.json()["Customer"]["CustomerNumber"]
    customers = len(world.fortnox_admin("GET", f"/_sandbox/records/{VENDOR_COMPANY}/customers"))

    result = vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")

    assert result.invoice.status == "created", result.invoice.error_message
    fortnox = bookkeeper.fortnox_api("GET", f"invoices/{result.invoice.document_number}").json()
    assert fortnox["Invoice"]["CustomerNumber"] == existing
    assert len(world.fortnox_admin("GET", f"/_sandbox/records/{VENDOR_COMPANY}/customers")) == (
        customers
    )


def test_a_create_whose_answer_is_lost_is_adopted_not_repeated(world, vendor, portal):
    before = len(fortnox_invoices(world, VENDOR_COMPANY))
    world.fortnox_admin(
        "POST", "/_sandbox/faults/commit-then-drop", json={"count": 1, "path_prefix": "/3/invoices"}
    )

    result = vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")

    assert result.invoice.status == "created", result.invoice.error_message
    assert len(fortnox_invoices(world, VENDOR_COMPANY)) == before + 1
    assert result.invoice.total == Decimal("613")
    again = vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")
    assert again.already and again.invoice.document_number == result.invoice.document_number
    assert len(fortnox_invoices(world, VENDOR_COMPANY)) == before + 1


def test_a_failed_attempt_is_stored_and_a_later_request_looks_it_up_first(world, vendor, portal):
    before = len(fortnox_invoices(world, VENDOR_COMPANY))
    # Fortnox fails while handling the create, every try (a 500: the outcome is unknown, and
    # the lookup after it finds nothing).
    world.fortnox_admin(
        "POST",
        "/_sandbox/faults/fail-next",
        json={"count": 10, "status": 500, "method": "POST", "path_prefix": "/3/invoices"},
    )

    failed = vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")

    assert failed.failed and failed.invoice.error_message and failed.invoice.error_fix
    assert failed.invoice.create_sent_at is not None
    world.fortnox_admin("DELETE", "/_sandbox/faults")

    retried = vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")

    assert retried.invoice.status == "created", retried.invoice.error_message
    assert len(fortnox_invoices(world, VENDOR_COMPANY)) == before + 1


def test_refusals_name_the_fix_and_call_nothing(world, plans, portal):
    world.fortnox_admin("DELETE", "/_sandbox/requests")

    with pytest.raises(VendorInvoiceRefused, match="not connected") as no_vendor:
        vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")
    assert "Django admin" in no_vendor.value.fix

    VendorFortnoxConnection.objects.create(company_name="Vendor", database_number="1000002")
    with pytest.raises(VendorInvoiceRefused, match="has not ended"):
        vendor_invoice_create(portal, current_period(), requested_by="billing-staff")
    BillingDetails.objects.filter(installation=portal).delete()
    with pytest.raises(VendorInvoiceRefused, match="no billing details") as no_details:
        vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")
    assert "Usage tab" in no_details.value.fix
    PortalPlan.objects.filter(installation=portal).update(plan=plans["free"])
    with pytest.raises(VendorInvoiceRefused, match="Free plan"):
        vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")

    assert VendorInvoice.objects.count() == 0
    assert api_calls(world, VENDOR_COMPANY) == []


def test_only_staff_start_or_finish_the_vendor_connection(world, staff):
    with requests.Session() as stranger:
        start = stranger.get(
            f"{world.app}/staff/billing/vendor-fortnox/connect", allow_redirects=False, timeout=10
        )
        assert start.status_code == 302 and "/admin/login/" in start.headers["Location"]
    start = staff.get(
        f"{world.app}/staff/billing/vendor-fortnox/connect", allow_redirects=False, timeout=10
    )
    # Staff started it; the session then stops being staff before Fortnox answers.
    User.objects.filter(username="billing-staff").update(is_staff=False)
    answer = staff.get(f"{start.headers['Location']}&sandbox_company={VENDOR_COMPANY}", timeout=30)
    assert answer.status_code == 403
    assert not VendorFortnoxConnection.objects.exists()


def test_connecting_again_disconnects_the_earlier_vendor_company(world, staff, vendor):
    old_token = vendor.access_token

    page = connect_vendor(world, staff, company=FORTNOX_COMPANY)

    assert "is connected" in visible_text(page.text)
    rows = VendorFortnoxConnection.objects.order_by("pk")
    assert [r.status for r in rows] == ["disconnected", "connected"]
    assert rows[1].company_name == "Sandbox Demo AB"
    old = requests.get(
        f"{world.fortnox}/3/companyinformation",
        headers={"Authorization": f"Bearer {old_token}"},
        timeout=10,
    )
    assert old.status_code == 401
    assert not FortnoxConnection.objects.exists()  # a portal's connection is another thing


def test_a_refused_vendor_refresh_marks_the_vendor_company_not_the_portals(world, vendor, portal):
    world.fortnox_admin("POST", "/_sandbox/faults/revoke-consent", json={"company": VENDOR_COMPANY})
    world.fortnox_admin("POST", "/_sandbox/faults/expire-tokens")
    VendorFortnoxConnection.objects.filter(pk=vendor.pk).update(access_token_expires_at=None)

    result = vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")

    assert result.failed
    assert "Connect the vendor's Fortnox company again in Django admin" in result.invoice.error_fix
    vendor.refresh_from_db()
    assert vendor.status == "needs_reconnect"
    assert FortnoxConnection.objects.get(installation=portal).status == "connected"
    with pytest.raises(VendorInvoiceRefused, match="needs to be connected again"):
        vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")


def test_the_client_refuses_a_vendor_connection_without_its_token_source(vendor):
    with pytest.raises(TypeError, match="needs its own token source"):
        FortnoxClient(vendor)


def test_an_eu_company_with_a_vat_number_is_invoiced_with_reverse_charge(world, vendor, portal):
    BillingDetails.objects.filter(installation=portal).update(
        legal_name="Nordlicht GmbH",
        organisation_number="",
        vat_number="DE123456789",
        address="Hauptstraße 1",
        zip_code="10115",
        city="Berlin",
        country="DE",
    )

    result = vendor_invoice_create(portal, LAST_MONTH, requested_by="billing-staff")

    assert result.invoice.status == "created", result.invoice.error_message
    bookkeeper = Portal(world, company=VENDOR_COMPANY)
    fortnox = bookkeeper.fortnox_api("GET", f"invoices/{result.invoice.document_number}").json()[
        "Invoice"
    ]
    assert Decimal(str(fortnox["TotalVAT"])) == 0
    assert Decimal(str(fortnox["Total"])) == Decimal("490")
    customer = bookkeeper.fortnox_api("GET", f"customers/{fortnox['CustomerNumber']}").json()[
        "Customer"
    ]
    assert (customer["VATType"], customer["VATNumber"], customer["CountryCode"]) == (
        "EUREVERSEDVAT",
        "DE123456789",
        "DE",
    )


def test_staff_disconnect_the_vendor_company_and_its_tokens_are_revoked(world, staff, vendor):
    listing = staff.get(f"{world.app}/admin/billing/vendorfortnoxconnection/", timeout=10)

    page = staff.post(
        f"{world.app}/admin/billing/vendorfortnoxconnection/",
        data={
            "action": "disconnect",
            "_selected_action": [vendor.pk],
            "csrfmiddlewaretoken": csrf_token(listing.text),
        },
        timeout=30,
    )

    assert "Disconnected the vendor's Fortnox company Andra Bolaget AB." in visible_text(page.text)
    old_token = vendor.access_token
    vendor.refresh_from_db()
    assert vendor.status == "disconnected" and vendor.refresh_token == ""
    old = requests.get(
        f"{world.fortnox}/3/companyinformation",
        headers={"Authorization": f"Bearer {old_token}"},
        timeout=10,
    )
    assert old.status_code == 401
