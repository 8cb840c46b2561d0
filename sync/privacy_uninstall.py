"""Personal data of portals that uninstalled the app: scrubbed, and their Fortnox tokens revoked,
UNINSTALL_SCRUB_DAYS after the uninstall (cloudify/settings/privacy.py).

HubSpot sends nothing when a portal uninstalls the app: the service learns it when HubSpot
refuses the portal's token. So portals not heard from for a week are asked (one token refresh),
and a refusal starts their grace period.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from integrations.errors import IntegrationError
from integrations.hubspot.errors import HubSpotUninstalled
from integrations.hubspot.tokens import hubspot_access_token_refresh
from integrations.models import FortnoxConnection, HubSpotInstallation
from portals.services import fortnox_disconnect
from sync.models import Run, WebhookEvent
from sync.privacy import ROWS_PER_PASS, ScrubReport, events_scrub, runs_scrub

logger = logging.getLogger(__name__)

# Portals whose Fortnox tokens one pass revokes: each revocation is a call to Fortnox (up to
# 25 s when it is slow: integrations/fortnox/oauth.py), and the task has 120 s.
REVOCATIONS_PER_PASS = 3
# A portal whose HubSpot token was last refreshed this long ago is asked whether the app is still
# installed (one token refresh: hubspot-api.md §1.4, Addendum §6), at most this many per pass.
QUIET_AFTER = timedelta(days=7)
CHECKS_PER_PASS = 50


def hubspot_quiet_installations_check(
    now: datetime, *, limit: int = CHECKS_PER_PASS
) -> ScrubReport:
    """Refresh the HubSpot token of installed portals not heard from for QUIET_AFTER: a refusal
    marks the portal uninstalled (integrations/hubspot/tokens.py), which starts its grace
    period; an answer means it is still installed, and it is not asked again for a week."""
    quiet = HubSpotInstallation.objects.filter(
        Q(last_refreshed_at__lt=now - QUIET_AFTER)
        | Q(last_refreshed_at__isnull=True, installed_at__lt=now - QUIET_AFTER),
        status=HubSpotInstallation.Status.ACTIVE,
    ).order_by("last_refreshed_at", "pk")
    found, checked = 0, list(quiet.values_list("pk", "access_token")[: limit + 1])
    for installation_id, access_token in checked[:limit]:
        try:
            hubspot_access_token_refresh(installation_id, stale_token=access_token)
        except HubSpotUninstalled:
            found += 1
        except IntegrationError as exc:  # HubSpot unreachable: ask again tomorrow
            logger.warning(
                "hubspot install check failed",
                extra={"installation": installation_id, "code": exc.code},
            )
    return ScrubReport(uninstalls_found=found, more=len(checked) > limit)


def personal_data_scrub_uninstalled(now: datetime, *, limit: int = ROWS_PER_PASS) -> ScrubReport:
    """Portals uninstalled more than UNINSTALL_SCRUB_DAYS before `now`: scrub all their runs and
    events, revoke and forget their Fortnox tokens, and forget who installed and connected."""
    cutoff = now - timedelta(days=settings.UNINSTALL_SCRUB_DAYS)
    due = HubSpotInstallation.objects.filter(
        status=HubSpotInstallation.Status.UNINSTALLED, uninstalled_at__lte=cutoff
    ).order_by("pk")
    result = ScrubReport()
    for installation_id in due.values_list("pk", flat=True):
        left = limit - result.runs - result.events
        if left <= 0 or result.fortnox_connections >= REVOCATIONS_PER_PASS:
            result.more = True
            return result
        result += _installation_scrub(installation_id, cutoff, now, left)
    return result


def _installation_scrub(installation_id: int, cutoff: datetime, now: datetime, limit: int):
    # Under the installation's row lock: an install completing now (portals/services.py
    # locks the same row) waits, so a portal installed again is never scrubbed or disconnected.
    with transaction.atomic():
        installation = HubSpotInstallation.objects.select_for_update().get(pk=installation_id)
        if installation.is_active or not installation.uninstalled_at:
            return ScrubReport()
        if installation.uninstalled_at > cutoff:
            return ScrubReport()
        run_count, runs_more = runs_scrub(
            Run.objects.filter(installation=installation, personal_data_scrubbed_at__isnull=True),
            now,
            limit,
        )
        event_count, events_more = events_scrub(
            WebhookEvent.objects.filter(
                hub_id=installation.hub_id, personal_data_scrubbed_at__isnull=True
            ),
            now,
            max(0, limit - run_count),
        )
        revoked = 0
        for connection in installation.fortnox_connections.order_by("pk"):
            if connection.refresh_token or connection.access_token:
                fortnox_disconnect(connection, reason="the app was uninstalled from HubSpot")
                revoked += 1
        if installation.installed_by_email:
            installation.installed_by_email = ""
            installation.save(update_fields=["installed_by_email", "updated_at"])
        FortnoxConnection.objects.filter(installation=installation).exclude(
            connected_by_email=""
        ).update(connected_by_email="")
    result = ScrubReport(run_count, event_count, revoked, more=runs_more or events_more)
    if run_count or event_count or revoked:
        logger.info(
            "uninstalled portal's personal data scrubbed",
            extra={"portal": installation.hub_id, **result.as_dict()},
        )
    return result
