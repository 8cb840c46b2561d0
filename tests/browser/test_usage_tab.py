"""The Usage tab in a real browser (issue 17): a portal on the paid Standard plan with this
month's counted documents (one credited), the progress bar and the list, the billing details
asked for, refused with the field named, then saved; Request upgrade; the Swedish page.
Photographed under tests/browser/screenshots/usage-*.png."""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Plan, PortalPlan, UpgradeRequest, UsageCredit
from integrations.models import HubSpotInstallation
from tests.browser.steps import fresh_portal, install_through_consent, open_tab, shot
from tests.portals.test_usage_tab_e2e import STOCKHOLM, counted


def test_the_usage_tab_billing_details_and_an_upgrade_request(page, live_world):
    hub = fresh_portal(live_world, "Nordljus Konsult")
    install_through_consent(page, live_world, hub)
    Plan.objects.update(is_default=False)
    Plan.objects.update_or_create(
        code="free", defaults={"name": "Free", "monthly_quota": 10, "is_default": True}
    )
    standard, _ = Plan.objects.update_or_create(
        code="standard",
        defaults={"name": "Standard", "monthly_quota": 20, "price": Decimal("490.00")},
    )
    Plan.objects.update_or_create(
        code="pro", defaults={"name": "Pro", "monthly_quota": 2000, "price": Decimal("2900.00")}
    )
    installation = HubSpotInstallation.objects.get(hub_id=hub)
    PortalPlan.objects.create(installation=installation, plan=standard)
    for number in range(1, 18):
        counted(installation, number, deal_name=f"Årsavtal {number}", total=f"{number}250.00")
    UsageCredit.objects.create(
        usage=counted(installation, 18, deal_name="Dubblett"),
        reason="Counted twice after a lost answer",
        credited_by="staff@vendor.example",
    )

    open_tab(page, "Usage")
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("value", "17")
    expect(page.locator("#quota-text")).to_have_text("17 of 20 documents (85 %)")
    expect(page.locator("#quota-notice")).to_contain_text("85 % of this month's 20 documents")
    expect(page.locator("#details-missing")).to_be_visible()
    expect(page.locator("#usage-records tbody tr")).to_have_count(18)
    expect(page.locator("#usage-records")).to_contain_text("Credited: Counted twice")
    shot(page, "usage-01-quota-and-documents")

    form = page.locator("#billing-details")
    form.get_by_label("Legal name").fill("Nordljus Konsult AB")
    form.get_by_label("Organisation number").fill("556016-0681")
    form.get_by_label("Address").fill("Storgatan 1")
    form.get_by_label("Postcode").fill("111 22")
    form.get_by_label("City").fill("Stockholm")
    form.get_by_label("Invoice e-mail").fill("ekonomi@nordljus.example")
    form.get_by_role("button", name="Save billing details").click()
    expect(page.locator("#billing-details")).to_contain_text(
        "Organisation number: 556016-0681 is not a Swedish organisation number."
    )
    shot(page, "usage-02-organisation-number-refused")
    page.locator("#billing-details").get_by_label("Organisation number").fill("556016-0680")
    page.locator("#billing-details").get_by_role("button", name="Save billing details").click()
    expect(page.locator("ul.messages")).to_have_text("Billing details saved.")
    expect(page.locator("#details-missing")).to_have_count(0)

    upgrade = page.locator("#upgrade")
    upgrade.get_by_label("Plan").select_option(label="Pro: 2000 documents a month, 2900.00 SEK")
    upgrade.get_by_label("Message (optional)").fill("December is our busy month.")
    upgrade.get_by_role("button", name="Request upgrade").click()
    expect(page.locator("ul.messages")).to_contain_text("Upgrade to Pro requested.")
    assert UpgradeRequest.objects.get().wanted_plan.code == "pro"
    shot(page, "usage-03-upgrade-requested")

    page.get_by_label("Language").select_option("sv")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("#quota-text")).to_have_text("17 av 20 dokument (85 %)")
    expect(page.locator("#statement-link")).to_contain_text("Ladda ner användningsbeskedet")
    period = timezone.now().astimezone(STOCKHOLM).strftime("%Y-%m")
    expect(page.locator("#statement-link")).to_have_attribute(
        "href", re.compile(rf"/usage/{period}/statement\.pdf$")
    )
    shot(page, "usage-04-swedish")
