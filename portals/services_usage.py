"""What the Usage tab changes: the portal owner's billing details (a super admin only) and a
request to upgrade (staff are e-mailed; staff change the plan in Django admin). Both are
recorded in the settings history."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from billing.forms import BillingDetailsForm
from billing.models import BillingDetails, Plan, UpgradeRequest
from integrations.models import HubSpotInstallation
from portals.access import PortalAccess
from portals.history import settings_changes_record

logger = logging.getLogger(__name__)

USAGE_SECTION = "usage"
DETAIL_FIELDS = (
    "legal_name",
    "organisation_number",
    "vat_number",
    "address",
    "zip_code",
    "city",
    "country",
    "invoice_email",
)


def billing_details_missing(installation: HubSpotInstallation) -> bool:
    details = BillingDetails.objects.filter(installation=installation).first()
    return details is None or not (
        details.legal_name
        and (details.organisation_number or details.vat_number)
        and details.address
        and details.invoice_email
    )


def billing_details_save(
    installation: HubSpotInstallation, access: PortalAccess, values: dict[str, Any]
) -> int:
    """Save the details and record each change; returns how many changed."""
    with transaction.atomic():
        details = (
            BillingDetails.objects.select_for_update().filter(installation=installation).first()
        )
        if details is None:
            details = BillingDetails(installation=installation)
        changes = []
        for name in DETAIL_FIELDS:
            old = getattr(details, name) if details.pk else ""
            new = values.get(name, "")
            if old != new:
                label = BillingDetailsForm.base_fields[name].label
                changes.append((_("Billing details: %(field)s") % {"field": label}, old, new))
            setattr(details, name, new)
        details.updated_by = access.actor
        if changes or details.pk is None:
            details.save()
        return len(settings_changes_record(installation, access, USAGE_SECTION, changes))


def staff_emails() -> list[str]:
    """Where upgrade requests go: BILLING_STAFF_EMAILS, else Django's ADMINS."""
    addresses = list(getattr(settings, "BILLING_STAFF_EMAILS", []) or [])
    return addresses or [email for _name, email in getattr(settings, "ADMINS", [])]


def upgrade_request_create(
    installation: HubSpotInstallation,
    access: PortalAccess,
    plan: Plan,
    message: str,
    current: Plan,
) -> UpgradeRequest:
    """Record the request (history, Django admin's list), e-mail staff and log it."""
    with transaction.atomic():
        request = UpgradeRequest.objects.create(
            installation=installation,
            wanted_plan=plan,
            requested_by=access.actor,
            message=message,
        )
        settings_changes_record(
            installation,
            access,
            USAGE_SECTION,
            [(_("Upgrade requested"), current.name, plan.name)],
        )
    recipients = staff_emails()
    admin_url = _admin_url(request)
    body = "\n".join(
        line
        for line in (
            f"HubSpot account {installation.hub_id} asks to upgrade.",
            f"Current plan: {current.name} ({current.monthly_quota} documents a month)",
            f"Wanted plan: {plan.name} ({plan.monthly_quota} documents a month)",
            f"Asked by: {access.actor or 'unknown user'}",
            f"Message: {message}" if message else "",
            f"In Django admin: {admin_url}" if admin_url else "",
            "Change the portal's plan in Django admin (Billing › Portal plans).",
        )
        if line
    )
    sent = 0
    if recipients:
        try:
            sent = send_mail(
                f"Upgrade request: HubSpot account {installation.hub_id} → {plan.name}",
                body,
                None,
                recipients,
            )
        except (OSError, smtplib.SMTPException):
            # The request stays listed in Django admin; the mail server is staff's to fix.
            logger.exception(
                "upgrade request e-mail to staff failed",
                extra={"portal": installation.hub_id, "upgrade_request": request.pk},
            )
    logger.info(
        "upgrade requested",
        extra={
            "portal": installation.hub_id,
            "upgrade_request": request.pk,
            "plan": plan.code,
            "current_plan": current.code,
            "requested_by": access.actor,
            "staff_emailed": sent,
        },
    )
    if not recipients:
        logger.warning(
            "upgrade request not e-mailed: set BILLING_STAFF_EMAILS or ADMINS",
            extra={"portal": installation.hub_id, "upgrade_request": request.pk},
        )
    return request


def _admin_url(request: UpgradeRequest) -> str:
    """The request in Django admin, once billing/admin.py registers it."""
    try:
        path = reverse("admin:billing_upgraderequest_change", args=[request.pk])
    except NoReverseMatch:
        return ""
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
