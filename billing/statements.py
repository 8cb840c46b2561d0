"""The monthly usage statement: a PDF rendered with WeasyPrint from
templates/billing/statement.html, in Swedish or English. The portal owner (the billing details,
else the HubSpot account), the period, the plan, each counted document with its deal, Fortnox
number and total, the credits with their reasons, and the count."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation

from billing.models import BillingDetails, UsageRecord
from billing.services import usage_summary
from integrations.models import HubSpotInstallation

PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


def period_parse(value: str) -> date | None:
    """'2026-11' → date(2026, 11, 1); None for anything else."""
    match = PERIOD.match(value or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 2000:
        return None
    return date(year, month, 1)


def record_credit(record: UsageRecord) -> Any:
    """The record's UsageCredit, or None."""
    try:
        return record.credit
    except UsageRecord.credit.RelatedObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class StatementOwner:
    name: str
    lines: list[str]


def statement_owner(installation: HubSpotInstallation) -> StatementOwner:
    details = BillingDetails.objects.filter(installation=installation).first()
    hubspot = translation.gettext("HubSpot account %(hub_id)s") % {"hub_id": installation.hub_id}
    if details is None:
        return StatementOwner(
            name=installation.hub_domain or hubspot,
            lines=[hubspot] if installation.hub_domain else [],
        )
    number = details.organisation_number or details.vat_number
    lines = [
        line
        for line in (
            number,
            details.address,
            f"{details.zip_code} {details.city}".strip(),
            details.country,
            details.invoice_email,
            hubspot,
        )
        if line
    ]
    return StatementOwner(name=details.legal_name, lines=lines)


def statement_context(installation: HubSpotInstallation, period: date) -> dict[str, Any]:
    summary = usage_summary(installation, period)
    rows = []
    credits = []
    for record in sorted(summary.records, key=lambda r: (r.counted_at, r.pk)):
        credit = record_credit(record)
        rows.append({"record": record, "credit": credit})
        if credit is not None:
            credits.append({"record": record, "credit": credit})
    return {
        "installation": installation,
        "owner": statement_owner(installation),
        "summary": summary,
        "plan": summary.plan,
        "period": period,
        "last_day": summary.resets_at - timedelta(days=1),
        "rows": rows,
        "credits": credits,
        "counted": len(rows),
        "credited": len(credits),
        "used": summary.used,
        "created_at": timezone.localdate(),
    }


def statement_pdf(installation: HubSpotInstallation, period: date, language: str) -> bytes:
    """The statement of `period` as PDF bytes, in `language` ("sv" or "en")."""
    from weasyprint import HTML  # imported here: it loads its fonts and libraries once used

    with translation.override(language):
        context = statement_context(installation, period)
        html = render_to_string("billing/statement.html", {**context, "language": language})
    return HTML(string=html).write_pdf()


def statement_filename(installation: HubSpotInstallation, period: date) -> str:
    return f"usage-{installation.hub_id}-{period:%Y-%m}.pdf"
