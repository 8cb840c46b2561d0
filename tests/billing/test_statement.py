"""The monthly usage statement (issue 17): a PDF that parses, with the portal owner, the period,
the plan, each counted document with its deal, Fortnox number and total, the credits with their
reasons and the count; in Swedish or English; downloadable by support staff."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from billing.models import BillingDetails, Plan, UsageCredit, UsageRecord
from billing.statements import statement_pdf
from integrations.models import HubSpotInstallation
from sync.models import Run

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOVEMBER = date(2026, 11, 1)


@pytest.fixture
def installation() -> HubSpotInstallation:
    Plan.objects.update(is_default=False)
    Plan.objects.update_or_create(
        code="free",
        defaults={"name": "Free", "monthly_quota": 10, "price": 0, "is_default": True},
    )
    return HubSpotInstallation.objects.create(hub_id=7700001, hub_domain="nordljus.example")


def counted(installation, number: int, deal_name: str, total: str, day: int) -> UsageRecord:
    deal = str(8000 + number)
    run = Run.objects.create(
        installation=installation,
        subject_id=deal,
        kind="invoice",
        trigger="stage",
        trigger_key=f"stage:default:closedwon:{number}",
        status="succeeded",
        fortnox_document_number=str(number),
    )
    return UsageRecord.objects.create(
        installation=installation,
        run=run,
        period=NOVEMBER,
        kind="invoice",
        document_number=str(number),
        deal_id=deal,
        deal_name=deal_name,
        total=Decimal(total),
        currency="SEK",
        counted_at=datetime(2026, 11, day, 10, 0, tzinfo=STOCKHOLM),
    )


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_statement_lists_each_document_its_total_the_credit_and_the_count(installation):
    counted(installation, 101, "Årsavtal Kund AB", "1250.00", 3)
    counted(installation, 102, "Konsulttimmar", "8400.50", 12)
    twice = counted(installation, 103, "Dubblett", "99.00", 20)
    UsageCredit.objects.create(
        usage=twice, reason="Counted twice after a lost answer", credited_by="staff@example"
    )
    BillingDetails.objects.create(
        installation=installation,
        legal_name="Nordljus Konsult AB",
        organisation_number="556016-0680",
        address="Storgatan 1",
        zip_code="111 22",
        city="Stockholm",
        invoice_email="ekonomi@nordljus.example",
    )

    text = pdf_text(statement_pdf(installation, NOVEMBER, "en"))

    assert "Usage statement 2026-11" in text
    assert "Nordljus Konsult AB" in text and "556016-0680" in text
    assert "2026-11-01 – 2026-11-30" in text
    assert "Free (10 documents a month)" in text
    assert "Årsavtal Kund AB (8101)" in text and "Invoice 101" in text and "1250.00 SEK" in text
    assert "Konsulttimmar (8102)" in text and "8400.50 SEK" in text
    assert "Invoice 103 — credited" in text
    assert "Credits" in text and "Counted twice after a lost answer" in text
    assert "Documents: 3 counted, 1 credited, 2 charged of 10 in the plan." in text


def test_the_statement_in_swedish_without_billing_details_names_the_hubspot_account(
    installation,
):
    counted(installation, 7, "Årsavtal", "500.00", 5)

    text = pdf_text(statement_pdf(installation, NOVEMBER, "sv"))

    assert "nordljus.example" in text and "HubSpot-konto 7700001" in text
    assert "Användningsbesked 2026-11" in text
    assert "Faktura 7" in text and "500,00 SEK" in text  # a Swedish decimal comma
    assert "Dokument: 1 räknade, 0 krediterade, 1 debiterade av 10 i planen." in text


def test_support_staff_download_a_portals_statement(installation, client, admin_user):
    counted(installation, 11, "Årsavtal", "500.00", 5)
    url = f"/staff/billing/{installation.hub_id}/2026-11/statement.pdf"
    assert client.get(url).status_code == 302  # to the admin's sign-in

    client.force_login(admin_user)
    answer = client.get(url, {"language": "en"})

    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert "Invoice 11" in pdf_text(answer.content)
    assert (
        client.get(f"/staff/billing/{installation.hub_id}/2026-13/statement.pdf").status_code == 404
    )
