"""The Usage tab (issue 17): documents this period against the quota, the counted documents
linked to HubSpot and Fortnox, earlier periods, the 80 % notice, Request upgrade (staff are
e-mailed, the history records it) and the billing details (a super admin only; errors name the
field and the fix). The counted documents are data here: they are written straight into the
database, as the run engine would."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests
from django.core import mail
from django.utils import timezone

from billing.models import (
    BillingDetails,
    Plan,
    PortalPlan,
    UpgradeRequest,
    UsageCredit,
    UsageRecord,
)
from integrations.models import HubSpotInstallation
from sync.models import Run
from tests.flows import HUB, csrf_token, visible_text
from tests.portals.settings_helpers import open_page, post_form, section_text, signed_in
from tests.portals.test_access_e2e import SALES_ID, allow, sign_in_by_link

pytestmark = pytest.mark.django_db(transaction=True)

UI_DOMAIN = "app-eu1.hubspot.com"  # what the HubSpot sandbox's account details answer
STOCKHOLM = ZoneInfo("Europe/Stockholm")
DETAILS = {
    "legal_name": "Nordljus Konsult AB",
    "organisation_number": "556016-0680",
    "vat_number": "",
    "address": "Storgatan 1",
    "zip_code": "111 22",
    "city": "Stockholm",
    "country": "SE",
    "invoice_email": "ekonomi@nordljus.example",
}


@pytest.fixture
def browser(world):
    with requests.Session() as session:
        signed_in(world, session)
        yield session


def plans() -> tuple[Plan, Plan]:
    Plan.objects.update(is_default=False)
    free, _ = Plan.objects.update_or_create(
        code="free",
        defaults={"name": "Free", "monthly_quota": 10, "price": 0, "is_default": True},
    )
    standard, _ = Plan.objects.update_or_create(
        code="standard",
        defaults={"name": "Standard", "monthly_quota": 200, "price": Decimal("490.00")},
    )
    return free, standard


def counted(
    installation: HubSpotInstallation,
    number: int,
    *,
    at: datetime | None = None,
    deal_name: str = "",
    total: str = "1250.00",
    kind: str = "invoice",
) -> UsageRecord:
    """A succeeded run and its usage record, as the engine writes them."""
    at = at or timezone.now()
    deal = str(9000 + number)
    run = Run.objects.create(
        installation=installation,
        subject_id=deal,
        kind=kind,
        trigger="stage",
        trigger_key=f"stage:default:closedwon:{number}",
        status="succeeded",
        fortnox_document_number=str(number),
        total=Decimal(total),
        currency="SEK",
    )
    return UsageRecord.objects.create(
        installation=installation,
        run=run,
        period=at.astimezone(STOCKHOLM).date().replace(day=1),
        kind=kind,
        document_number=str(number),
        deal_id=deal,
        deal_name=deal_name,
        total=Decimal(total),
        currency="SEK",
        counted_at=at,
    )


def _hrefs(page: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', page))


def test_the_usage_tab_shows_this_periods_documents_against_the_quota(world, browser):
    plans()
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    for number in range(1, 9):
        counted(installation, number, deal_name=f"Avtal {number}")
    credited = counted(installation, 9, deal_name="Dubblett")
    UsageCredit.objects.create(
        usage=credited, reason="Counted twice after a lost answer", credited_by="staff@example"
    )
    earlier = counted(
        installation, 3001, at=datetime(2025, 5, 14, 9, 0, tzinfo=STOCKHOLM), deal_name="Maj"
    )

    page = open_page(world, browser, "usage/")

    assert page.status_code == 200
    usage = section_text(page.text, "usage")
    assert "Free" in usage
    assert "8 of 10 documents (80 %)" in usage
    assert re.search(r'<progress[^>]*max="10"[^>]*value="8"', page.text)
    assert "1 document credited by our staff (not counted)" in usage
    assert "Avtal 1" in usage and "Invoice 8" in usage and "1250.00 SEK" in usage
    assert "Credited: Counted twice after a lost answer" in usage
    assert "Maj" not in usage
    assert f"https://{UI_DOMAIN}/contacts/{HUB}/record/0-3/9001" in _hrefs(page.text)
    notice = visible_text(re.search(r'id="quota-notice"[^>]*>(.*?)</p>', page.text, re.S)[1])
    assert notice == (
        "80 % of this month's 10 documents are used. Request an upgrade before the quota runs out."
    )
    assert "2025-05" in page.text  # the earlier period is offered

    may = open_page(world, browser, "usage/?period=2025-05")
    may_usage = section_text(may.text, "usage")
    assert "Documents in 2025-05" in may_usage
    assert "1 of 10 documents (10 %)" in may_usage
    assert "Maj" in may_usage and "Avtal 1" not in may_usage
    assert f"/settings/{HUB}/usage/2025-05/statement.pdf" in _hrefs(may.text)
    assert earlier.pk  # listed above by its deal name

    bad = open_page(world, browser, "usage/?period=May")
    assert bad.status_code == 404


def test_a_full_quota_says_when_it_resets_and_how_to_upgrade(world, browser):
    plans()
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    for number in range(1, 11):
        counted(installation, number)

    page = open_page(world, browser, "usage/")

    text = visible_text(page.text)
    assert "The quota of 10 documents this month is used up" in text
    assert "A failed run can be replayed after the upgrade." in text
    assert "10 of 10 documents (100 %)" in text


def test_request_upgrade_emails_staff_and_is_recorded(world, browser, settings):
    settings.BILLING_STAFF_EMAILS = ["billing@vendor.example"]
    _free, standard = plans()
    page = open_page(world, browser, "usage/")
    assert "Request upgrade" in section_text(page.text, "upgrade")

    done = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/usage/upgrade/",
        {"upgrade-wanted_plan": standard.pk, "upgrade-message": "We grow in December."},
    )

    assert done.url == f"{world.app}/settings/{HUB}/usage/"
    assert "Upgrade to Standard requested. Our staff have been told" in visible_text(done.text)
    request = UpgradeRequest.objects.get()
    assert request.wanted_plan == standard and request.message == "We grow in December."
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["billing@vendor.example"]
    assert f"HubSpot account {HUB}" in email.subject and "Standard" in email.subject
    assert "We grow in December." in email.body
    assert "Current plan: Free (10 documents a month)" in email.body
    history = section_text(open_page(world, browser, "history/").text, "history")
    assert "Usage: Upgrade requested Free Standard" in history

    refused = post_form(
        world, browser, page, f"/settings/{HUB}/usage/upgrade/", {"upgrade-wanted_plan": "999"}
    )
    assert refused.status_code == 400
    assert "Plan: choose one of the plans in the list." in visible_text(refused.text)
    assert UpgradeRequest.objects.count() == 1


def test_a_super_admin_gives_the_billing_details_and_errors_name_the_field(world, browser):
    _free, standard = plans()
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    PortalPlan.objects.create(installation=installation, plan=standard)
    page = open_page(world, browser, "usage/")
    assert "Your plan is a paid plan: a super admin needs to fill in the billing details" in (
        visible_text(page.text)
    )

    refused = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/usage/details/",
        {**DETAILS, "organisation_number": "556016-0681", "invoice_email": "ekonomi"},
    )

    assert refused.status_code == 400
    details = section_text(refused.text, "billing-details")
    assert "Organisation number: 556016-0681 is not a Swedish organisation number." in details
    assert "Invoice e-mail: enter a whole e-mail address, e.g. ekonomi@example.se." in details
    assert not BillingDetails.objects.exists()

    neither = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/usage/details/",
        {**DETAILS, "organisation_number": ""},
    )
    assert neither.status_code == 400
    assert "Organisation number: enter the Swedish organisation number (NNNNNN-NNNN)" in (
        visible_text(neither.text)
    )

    saved = post_form(
        world,
        browser,
        page,
        f"/settings/{HUB}/usage/details/",
        {**DETAILS, "organisation_number": "5560160680"},
    )

    assert saved.url == f"{world.app}/settings/{HUB}/usage/#billing-details"
    assert "Billing details saved." in visible_text(saved.text)
    assert "fill in the billing details" not in visible_text(saved.text)
    stored = BillingDetails.objects.get()
    assert stored.organisation_number == "556016-0680"
    assert stored.invoice_email == "ekonomi@nordljus.example"
    assert 'value="Nordljus Konsult AB"' in saved.text
    history = section_text(open_page(world, browser, "history/").text, "history")
    assert "Usage: Billing details: Legal name — Nordljus Konsult AB" in history

    vat = post_form(
        world,
        browser,
        saved,
        f"/settings/{HUB}/usage/details/",
        {**DETAILS, "organisation_number": "", "vat_number": "de 123 456 789", "country": "de"},
    )
    assert "Billing details saved." in visible_text(vat.text)
    stored.refresh_from_db()
    assert (stored.vat_number, stored.organisation_number, stored.country) == (
        "DE123456789",
        "",
        "DE",
    )


def test_an_editor_requests_upgrades_but_only_a_super_admin_saves_billing_details(world, browser):
    _free, standard = plans()
    allow(world, browser, "sales@sandbox.example")
    editor = sign_in_by_link(world, SALES_ID)

    page = editor.get(f"{world.app}/settings/{HUB}/usage/", timeout=10)
    details = section_text(page.text, "billing-details")
    assert "Only a super admin of this HubSpot account can change the billing details" in details
    assert "Save billing details" not in details
    refused = editor.post(
        f"{world.app}/settings/{HUB}/usage/details/",
        data={"csrfmiddlewaretoken": csrf_token(page.text), **DETAILS},
        timeout=10,
    )
    assert refused.status_code == 403
    assert "Only a super admin of this HubSpot account" in visible_text(refused.text)
    assert not BillingDetails.objects.exists()
    assert "Request upgrade" in section_text(page.text, "upgrade")


def test_a_read_only_user_sees_usage_but_cannot_request_an_upgrade(world, browser):
    _free, standard = plans()
    counted(HubSpotInstallation.objects.get(hub_id=HUB), 1, deal_name="Avtal 1")
    viewer = sign_in_by_link(world, SALES_ID)

    page = viewer.get(f"{world.app}/settings/{HUB}/usage/", timeout=10)

    assert page.status_code == 200
    assert "1 of 10 documents (10 %)" in section_text(page.text, "usage")
    assert "Avtal 1" in section_text(page.text, "usage")
    upgrade = section_text(page.text, "upgrade")
    assert "A user who can change the settings can ask our staff for a bigger plan here." in upgrade
    refused = viewer.post(
        f"{world.app}/settings/{HUB}/usage/upgrade/",
        data={"csrfmiddlewaretoken": csrf_token(page.text), "upgrade-wanted_plan": standard.pk},
        timeout=10,
    )
    assert refused.status_code == 403
    assert not UpgradeRequest.objects.exists()
    assert not mail.outbox


def test_the_statement_downloads_from_the_tab_as_a_pdf(world, browser):
    plans()
    installation = HubSpotInstallation.objects.get(hub_id=HUB)
    counted(installation, 41, deal_name="Årsavtal")
    period = timezone.now().astimezone(STOCKHOLM).date().replace(day=1)
    page = open_page(world, browser, "usage/")
    link = f"/settings/{HUB}/usage/{period:%Y-%m}/statement.pdf"
    assert link in _hrefs(page.text)

    pdf = browser.get(f"{world.app}{link}", timeout=60)

    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f"usage-{HUB}-{period:%Y-%m}.pdf" in pdf.headers["Content-Disposition"]
