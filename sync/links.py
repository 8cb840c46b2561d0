"""Links a user follows from the app's pages: a record in HubSpot, a document in Fortnox.

A link into HubSpot must use the portal's `uiDomain` from HubSpot's account details
(hubspot-api.md, third addendum §3: "app-eu1.hubspot.com" for an EU-hosted portal). It is read
once and kept in Django's cache for a day, as HubSpot advises; a run that reads the account
details (sync/currency.py) refreshes it, so a page rarely asks HubSpot at all, and never once
per row.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from integrations.errors import IntegrationError
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import account_details_read, record_url
from integrations.models import HubSpotInstallation
from notes.services import document_url
from sync.models import SubjectType

logger = logging.getLogger(__name__)

UI_DOMAIN_TTL_S = 24 * 3600
# When HubSpot cannot be asked: its main host, which sends a user on to the portal's own.
FALLBACK_UI_DOMAIN = "app.hubspot.com"
FALLBACK_TTL_S = 300  # ask again soon
# HubSpot's object type ids, as its record URLs name them: HubSpot's object type id table, the
# same ids webhooks send as objectTypeId (sync/webhooks.py OBJECT_TYPE_IDS).
OBJECT_TYPE_IDS = {
    SubjectType.CONTACT: "0-1",
    SubjectType.COMPANY: "0-2",
    SubjectType.DEAL: "0-3",
    SubjectType.PRODUCT: "0-7",
}


def _ui_domain_key(hub_id: int) -> str:
    return f"hubspot-ui-domain:{hub_id}"


def hubspot_ui_domain_remember(hub_id: int, ui_domain: str) -> None:
    if ui_domain:
        cache.set(_ui_domain_key(hub_id), ui_domain, UI_DOMAIN_TTL_S)


def hubspot_ui_domain(installation: HubSpotInstallation) -> str:
    """The portal's HubSpot web host, from the cache or one account-details call."""
    key = _ui_domain_key(installation.hub_id)
    cached = cache.get(key)
    if cached:
        return cached
    try:
        ui_domain = account_details_read(HubSpotClient(installation)).ui_domain
    except IntegrationError as exc:
        logger.warning(
            "account details not read; HubSpot links use the main host",
            extra={"portal": installation.hub_id, "why": str(exc)},
        )
        cache.set(key, FALLBACK_UI_DOMAIN, FALLBACK_TTL_S)
        return FALLBACK_UI_DOMAIN
    ui_domain = ui_domain or FALLBACK_UI_DOMAIN
    cache.set(key, ui_domain, UI_DOMAIN_TTL_S)
    return ui_domain


def deal_link(installation: HubSpotInstallation, deal_id: str, ui_domain: str = "") -> str:
    return record_link(installation, SubjectType.DEAL, deal_id, ui_domain)


def record_link(
    installation: HubSpotInstallation, subject_type: str, object_id: str, ui_domain: str = ""
) -> str:
    """A deal, company, contact or product (a run's subject type) in HubSpot's web app."""
    ui_domain = ui_domain or hubspot_ui_domain(installation)
    return record_url(ui_domain, installation.hub_id, OBJECT_TYPE_IDS[subject_type], object_id)


def fortnox_document_link(installation: HubSpotInstallation, kind: str, number: str) -> str:
    """The document in Fortnox's web app (settings.FORTNOX_DOCUMENT_URL), in the company
    connected now (or last): runs do not keep which company they wrote to."""
    if not number:
        return ""
    connection = installation.active_fortnox_connection() or (
        installation.fortnox_connections.order_by("-connected_at").first()
    )
    tenant = connection.database_number if connection else ""
    return document_url(tenant, kind, number)
