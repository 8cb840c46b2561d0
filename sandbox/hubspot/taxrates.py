"""The account's tax rate library: GET /tax-rates/v1/tax-rates/{taxRateGroupId} and the list
(developers.hubspot.com/docs/api-reference/legacy/account/settings/tax-rates/get-tax-rate;
scope `tax_rates.read`). A line item's `hs_tax_rate_group_id` names one of these.

Tests add rates through POST /_sandbox/portals/{hub}/tax-rates {"name", "percentageRate",
"label"?, "active"?}; the answer carries the new id.
"""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.http import not_found, validation_error
from sandbox.hubspot.routing import Ctx, Route

SCOPE = "tax_rates.read"
CREATED = "2024-01-01T00:00:00.000Z"


def _portal(ctx: Ctx, hub: Any):
    portal = ctx.sb.store.portal(hub)
    if portal is None:
        raise not_found(f"There is no portal {hub} in the sandbox.")
    return portal


def get_by_id(ctx: Ctx, group_id: str):
    ctx.require_scopes(SCOPE)
    with ctx.sb.store.lock:
        rate = ctx.portal.tax_rates.get(group_id)
        if rate is None:
            raise not_found(f"No tax rate with id {group_id}")
        return dict(rate)


def get_page(ctx: Ctx):
    ctx.require_scopes(SCOPE)
    with ctx.sb.store.lock:
        return {"results": [dict(r) for r in ctx.portal.tax_rates.values()]}


def admin_create(ctx: Ctx, hub: int):
    body = ctx.json({}) or {}
    try:
        rate = float(body["percentageRate"])
    except (KeyError, TypeError, ValueError):
        raise validation_error("percentageRate (a number) is required") from None
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        group_id = portal.new_id()
        name = str(body.get("name") or f"{rate:g} %")
        portal.tax_rates[group_id] = {
            "id": group_id,
            "name": name,
            "label": str(body.get("label") or name),
            "percentageRate": rate,
            "active": bool(body.get("active", True)),
            "createdAt": CREATED,
            "updatedAt": CREATED,
        }
        return dict(portal.tax_rates[group_id]), 201


def routes() -> list[Route]:
    return [
        Route("/tax-rates/v1/tax-rates", ["GET"], get_page),
        Route("/tax-rates/v1/tax-rates/<group_id>", ["GET"], get_by_id),
        Route("/_sandbox/portals/<int:hub>/tax-rates", ["POST"], admin_create, "admin"),
    ]
