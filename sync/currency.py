"""The currency of a document, and the portal settings the deal's figures depend on.

Fortnox sets a foreign document's rate itself: the company's register gives the buying rate
(köpkurs) per unit for customer invoices, or the Riksbank's rate with automatic rates on, and a
`CurrencyRate` sent in the request would override both (fortnox-api.md, third addendum §2). So
the app sends none; it checks the register has the currency (else Fortnox refuses the document
with a less helpful message) and reads the rate and unit back from the created document.

A deal on a single-currency portal has no `deal_currency_code`: its currency is the portal's
company currency from HubSpot's account details (hubspot-api.md, third addendum §3), which also
give the time zone of the deal's dates. Read once per portal, cached on the installation, and
refreshed after ACCOUNT_DETAILS_MAX_AGE.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.fortnox.errors import FortnoxNotFound
from integrations.hubspot.crm import account_details_read
from integrations.models import HubSpotInstallation
from sync.context import RunContext, RunFailure
from sync.links import hubspot_ui_domain_remember

logger = logging.getLogger(__name__)

HOME_CURRENCY = "SEK"
#: The time zone of a portal whose account details name none (or one Python does not know).
DEFAULT_TIME_ZONE = "Europe/Stockholm"
#: HubSpot's guidance: cache the account details and refresh them daily (third addendum §3).
ACCOUNT_DETAILS_MAX_AGE = timedelta(days=1)


@dataclass(frozen=True)
class PortalSettings:
    company_currency: str
    time_zone: str


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return name


def portal_settings_get(ctx: RunContext) -> PortalSettings:
    """The portal's company currency and time zone, from the installation's cache, read from
    HubSpot when never read or older than ACCOUNT_DETAILS_MAX_AGE."""
    installation = ctx.installation
    read_at = installation.account_details_read_at
    if read_at is None or timezone.now() - read_at > ACCOUNT_DETAILS_MAX_AGE:
        details = account_details_read(ctx.hubspot)
        hubspot_ui_domain_remember(installation.hub_id, details.ui_domain)
        zone = _known_zone(details.time_zone)
        if details.time_zone and not zone:
            logger.warning(
                "unknown portal time zone",
                extra={"portal": installation.hub_id, "time_zone": details.time_zone},
            )
        installation.company_currency = details.company_currency[:3]
        installation.time_zone = zone
        installation.account_details_read_at = timezone.now()
        HubSpotInstallation.objects.filter(pk=installation.pk).update(
            company_currency=installation.company_currency,
            time_zone=installation.time_zone,
            account_details_read_at=installation.account_details_read_at,
        )
    return PortalSettings(
        company_currency=installation.company_currency,
        time_zone=installation.time_zone or DEFAULT_TIME_ZONE,
    )


def document_currency_check(ctx: RunContext, currency: str) -> None:
    """A foreign currency must be in the Fortnox company's currency register; the run fails
    with the fix when it is not (or when the deal's currency is not known at all)."""
    if not currency:
        raise RunFailure(
            _(
                "The deal has no currency, and HubSpot's account details name no company "
                "currency for the portal."
            ),
            _("Set the deal's currency in HubSpot, then Replay."),
        )
    if currency == HOME_CURRENCY:
        return
    try:
        ctx.fortnox.currency_get(currency)
    except FortnoxNotFound:
        raise RunFailure(
            _("Fortnox does not know the deal's currency %(currency)s.") % {"currency": currency},
            _("Add the currency under Register > Currencies in Fortnox, then Replay."),
        ) from None
