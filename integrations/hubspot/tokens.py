"""HubSpot access tokens (30 minutes) through the shared locked refresh (integrations/tokens.py).

A refused refresh means the app was uninstalled (HubSpot sends no uninstall event: product.md),
so the installation is marked uninstalled and work for the portal stops.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from integrations import tokens
from integrations.hubspot import oauth
from integrations.hubspot.errors import HubSpotUninstalled
from integrations.models import HubSpotInstallation

REINSTALL_FIX = "Install the app again from HubSpot's marketplace."


def _uninstalled(installation: HubSpotInstallation) -> HubSpotUninstalled:
    return HubSpotUninstalled(
        installation.last_problem
        or f"The app is not installed in HubSpot portal {installation.hub_id}.",
        fix=installation.last_problem_fix or REINSTALL_FIX,
    )


def _store(installation: HubSpotInstallation, token: dict[str, Any]) -> None:
    installation.store_tokens(
        token["access_token"], token.get("refresh_token"), token.get("expires_in", 1800)
    )


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


HUBSPOT_TOKENS = tokens.TokenSource(
    service="hubspot",
    model=HubSpotInstallation,
    usable=lambda installation: installation.is_active,
    not_usable=_uninstalled,
    refresh=lambda refresh_token: oauth.refresh(refresh_token),
    refused_type=HubSpotUninstalled,
    on_refused=lambda installation, refused: hubspot_installation_mark_uninstalled(
        installation, refused.message
    ),
    store=_store,
    log_fields=lambda installation: {"portal": installation.hub_id},
)


def hubspot_access_token_get(installation_id: int) -> str:
    return tokens.access_token_get(HUBSPOT_TOKENS, installation_id)


def hubspot_access_token_refresh(installation_id: int, *, stale_token: str | None) -> str:
    return tokens.access_token_refresh(HUBSPOT_TOKENS, installation_id, stale_token=stale_token)
