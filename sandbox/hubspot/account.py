"""Account details (GET /account-info/v3/details, and the dated /account-info/2026-03/details):
the portal's company currency, additional currencies, time zone and UI domain
(hubspot-api.md, third addendum §3). Scope `oauth`, which every app token carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.hubspot.routing import Ctx, Route

#: Where the sandbox's portals are hosted, as HubSpot names it for an EU portal.
UI_DOMAIN = "app-eu1.hubspot.com"
DATA_HOSTING_LOCATION = "eu1"


def _offset(time_zone: str, now: datetime) -> tuple[str, int]:
    delta = now.astimezone(ZoneInfo(time_zone)).utcoffset()
    ms = int(delta.total_seconds() * 1000) if delta else 0
    sign = "-" if ms < 0 else "+"
    minutes = abs(ms) // 60000
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}", ms


def details(ctx: Ctx):
    ctx.require_scopes("oauth")
    with ctx.sb.store.lock:
        portal = ctx.portal
        currency = portal.company_currency or (portal.currencies or ["USD"])[0]
        offset, offset_ms = _offset(
            portal.time_zone, datetime.fromtimestamp(ctx.sb.clock.now(), UTC)
        )
        body: dict[str, Any] = {
            "portalId": portal.hub_id,
            "accountType": "STANDARD",
            "timeZone": portal.time_zone,
            "companyCurrency": currency,
            "additionalCurrencies": [c for c in portal.currencies if c != currency],
            "utcOffset": offset,
            "utcOffsetMilliseconds": offset_ms,
            "uiDomain": UI_DOMAIN,
            "dataHostingLocation": DATA_HOSTING_LOCATION,
        }
    return body


def routes() -> list[Route]:
    return [
        Route("/account-info/v3/details", ["GET"], details),
        Route("/account-info/2026-03/details", ["GET"], details),
    ]
