"""HubSpot access tokens (30 minutes): proactive refresh and refresh on 401, one at a time.

HubSpot refresh tokens are reusable, but refreshing in every worker at once wastes calls under
the portal's rate limit, so the same lock discipline as Fortnox applies. A refused refresh means
the app was uninstalled (HubSpot sends no uninstall event: product.md), so the installation is
marked uninstalled and work for the portal stops.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from integrations.hubspot import oauth
from integrations.hubspot.errors import HubSpotUninstalled
from integrations.models import HubSpotInstallation

logger = logging.getLogger(__name__)

REINSTALL_FIX = "Install the app again from HubSpot's marketplace."


def _uninstalled(installation: HubSpotInstallation) -> HubSpotUninstalled:
    return HubSpotUninstalled(
        installation.last_problem
        or f"The app is not installed in HubSpot portal {installation.hub_id}.",
        fix=installation.last_problem_fix or REINSTALL_FIX,
    )


def hubspot_access_token_get(installation_id: int) -> str:
    installation = HubSpotInstallation.objects.get(pk=installation_id)
    if not installation.is_active:
        raise _uninstalled(installation)
    if installation.access_token_is_fresh():
        return installation.access_token
    return hubspot_access_token_refresh(installation_id, stale_token=installation.access_token)


def hubspot_access_token_refresh(installation_id: int, *, stale_token: str | None) -> str:
    refused: HubSpotUninstalled | None = None
    with transaction.atomic():
        installation = HubSpotInstallation.objects.select_for_update().get(pk=installation_id)
        if not installation.is_active:
            raise _uninstalled(installation)
        if installation.access_token != stale_token and installation.access_token_is_fresh():
            return installation.access_token
        try:
            token = oauth.refresh(installation.refresh_token)
        except HubSpotUninstalled as exc:
            hubspot_installation_mark_uninstalled(installation, exc.message)
            refused = exc
        else:
            installation.store_tokens(
                token["access_token"], token.get("refresh_token"), token.get("expires_in", 1800)
            )
            installation.clear_problem()
            installation.save()
            logger.info("hubspot token refreshed", extra={"portal": installation.hub_id})
            return installation.access_token
    logger.warning(
        "hubspot refresh refused: portal uninstalled",
        extra={"portal": installation.hub_id, "code": refused.code},
    )
    raise _uninstalled(HubSpotInstallation.objects.get(pk=installation_id)) from refused


def hubspot_installation_mark_uninstalled(installation: HubSpotInstallation, reason: str) -> None:
    installation.status = HubSpotInstallation.Status.UNINSTALLED
    installation.uninstalled_at = timezone.now()
    installation.access_token = ""
    installation.refresh_token = ""
    installation.record_problem(
        f"The app was uninstalled from HubSpot portal {installation.hub_id} ({reason}). "
        "Nothing is synced for this portal until it is installed again.",
        REINSTALL_FIX,
    )
    installation.save()
