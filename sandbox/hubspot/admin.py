"""The admin and inspection API under /_sandbox (JSON; no auth, no faults, not rate limited)."""

from __future__ import annotations

import base64
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.wrappers import Response

from sandbox.hubspot import auth, records, schema, seed
from sandbox.hubspot.http import not_found, validation_error
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.store import Portal, Source

APP_KEYS = {
    "redirect_uri",
    "webhook_url",
    "card_fetch_base",
    "subscriptions",
    "required_scopes",
    "optional_scopes",
    "client_secret",
    "public_base_url",
    "max_concurrent_requests",
    "name",
}


def user_source(portal: Portal, user_id: int | None = None) -> Source:
    """Changes made here are a user's in HubSpot's UI (changeSource CRM_UI)."""
    return Source("CRM_UI", f"userId:{portal.user(user_id)['id']}")


def _portal(ctx: Ctx, hub: Any) -> Portal:
    portal = ctx.sb.store.portal(hub)
    if portal is None:
        raise not_found(f"There is no portal {hub} in the sandbox.")
    return portal


def _object_type(raw: str) -> str:
    return schema.object_type(raw)


def raw_record(portal: Portal, object_type: str, record: dict[str, Any]) -> dict[str, Any]:
    links: dict[str, list[str]] = {}
    types: dict[str, dict[str, list[int]]] = {}
    for to_type in schema.OBJECT_TYPES:
        linked = portal.associated(object_type, record["id"], to_type)
        if linked:
            links[to_type] = list(linked)
            types[to_type] = linked
    return {
        "id": record["id"],
        "type": object_type,
        "properties": dict(record["properties"]),
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "archived": record["archived"],
        "associations": links,
        "association_types": types,
    }


def portal_summary(sb, portal: Portal) -> dict[str, Any]:
    return {
        "hub_id": portal.hub_id,
        "name": portal.name,
        "domain": portal.domain,
        "users": portal.users,
        "currencies": portal.currencies,
        "company_currency": portal.company_currency or (portal.currencies or ["USD"])[0],
        "time_zone": portal.time_zone,
        "installed": portal.installed,
        "pipelines": [
            {"id": p["id"], "label": p["label"], "stages": [s["id"] for s in p["stages"]]}
            for p in portal.pipelines
        ],
        "counts": {
            t: sum(1 for r in recs.values() if not r["archived"])
            for t, recs in portal.records.items()
        },
        "files": len(portal.files),
    }


# -- handlers -----------------------------------------------------------------------------


def reset(ctx: Ctx):
    ctx.sb.reset()
    return {"reset": True}


def app_get(ctx: Ctx):
    with ctx.sb.store.lock:
        app = dict(ctx.sb.store.app)
        app["resolved_webhook_url"] = ctx.sb.delivery.webhook_url()
        app["workflow_actions"] = [
            {"id": d["id"], "uid": d.get("uid"), "actionUrl": d["actionUrl"]}
            for d in ctx.sb.store.definitions.values()
            if not d.get("archivedAt")
        ]
        return app


def app_update(ctx: Ctx):
    body = ctx.json({}) or {}
    if not isinstance(body, dict):
        raise validation_error("the body must be a JSON object")
    unknown = sorted(set(body) - APP_KEYS)
    if unknown:
        raise validation_error(f"unknown app settings: {', '.join(unknown)}")
    with ctx.sb.store.lock:
        app = ctx.sb.store.app
        for key, value in body.items():
            if key == "subscriptions":
                if not isinstance(value, list):
                    raise validation_error("subscriptions must be a list")
                value = ctx.sb.number_subscriptions(value)
            if key in ("required_scopes", "optional_scopes") and not isinstance(value, list):
                raise validation_error(f"{key} must be a list of scopes")
            app[key] = value
    return app_get(ctx)


def portals_list(ctx: Ctx):
    with ctx.sb.store.lock:
        return [portal_summary(ctx.sb, p) for p in ctx.sb.store.portals.values()]


def portal_create(ctx: Ctx):
    body = ctx.json({}) or {}
    with ctx.sb.store.lock:
        store = ctx.sb.store
        hub = body.get("hub_id") or max([*store.portals, seed.SECOND_HUB]) + 1
        try:
            hub = int(hub)
        except (TypeError, ValueError):
            raise validation_error("hub_id must be a number") from None
        if hub in store.portals:
            raise validation_error(f"portal {hub} already exists")
        name = body.get("name") or f"Sandbox Portal {hub}"
        if body.get("seed", True):
            portal = seed.demo_portal(ctx.sb.clock)
            portal.hub_id = hub
            portal.name = name
            portal.domain = seed.empty_portal(hub, name).domain
        else:
            portal = seed.empty_portal(hub, name)
        if body.get("currencies"):
            portal.currencies = list(body["currencies"])
        _account_apply(portal, body)
        store.portals[hub] = portal
        return portal_summary(ctx.sb, portal), 201


def _account_apply(portal: Portal, body: dict[str, Any]) -> None:
    """The account details' settings: currencies (the portal's list), company_currency (ISO
    4217, added to the portal's currencies if new) and time_zone (an IANA name)."""
    if body.get("currencies") is not None:
        if not isinstance(body["currencies"], list) or not body["currencies"]:
            raise validation_error("currencies must be a non-empty list of currency codes")
        portal.currencies = [str(c).upper() for c in body["currencies"]]
    currency = body.get("company_currency")
    if currency is not None:
        currency = str(currency).upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise validation_error("company_currency must be a three-letter currency code")
        portal.company_currency = currency
        if currency not in portal.currencies:
            portal.currencies = [currency, *portal.currencies]
    withheld = body.get("withheld_scopes")
    if withheld is not None:
        if not isinstance(withheld, list):
            raise validation_error("withheld_scopes must be a list of scopes")
        portal.withheld_scopes = [str(s) for s in withheld]
    zone = body.get("time_zone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise validation_error(f"unknown time_zone {zone!r}: use an IANA name") from None
        portal.time_zone = str(zone)


def account_update(ctx: Ctx, hub: int):
    body = ctx.json({}) or {}
    if not isinstance(body, dict):
        raise validation_error("the body must be a JSON object")
    unknown = sorted(set(body) - {"company_currency", "time_zone", "currencies", "withheld_scopes"})
    if unknown:
        raise validation_error(f"unknown account settings: {', '.join(unknown)}")
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        _account_apply(portal, body)
        return portal_summary(ctx.sb, portal)


def portal_get(ctx: Ctx, hub: int):
    with ctx.sb.store.lock:
        return portal_summary(ctx.sb, _portal(ctx, hub))


def _links(
    portal: Portal, object_type: str, raw: Any, record_id: str | None = None
) -> list[tuple[str, str, int]]:
    """[{to_type, to_id, type_id?}] → (to_type, to_id, type id). Without type_id the default
    type; a deal's or contact's first company becomes its primary one, as in HubSpot's UI."""
    links = []
    has_primary = record_id is not None and any(
        tid in (1, 5)
        for tids in portal.associated(object_type, record_id, "companies").values()
        for tid in tids
    )
    for item in raw or []:
        try:
            to_type = schema.object_type(str(item["to_type"]))
            to_id = str(item["to_id"])
        except (KeyError, TypeError):
            raise validation_error("associations are [{to_type, to_id}]") from None
        if portal.record(to_type, to_id) is None:
            raise validation_error(f"{to_type} {to_id} does not exist")
        type_id = item.get("type_id")
        if type_id is None:
            type_id = schema.DEFAULT_TYPE.get((object_type, to_type))
            takes_primary = object_type in ("deals", "contacts") and to_type == "companies"
            if takes_primary and not has_primary:
                type_id = 5 if object_type == "deals" else 1
                has_primary = True
        try:
            type_id = int(type_id)
        except (TypeError, ValueError):
            type_id = -1
        if not schema.association_type_valid(object_type, to_type, type_id):
            raise validation_error(
                f"{object_type} cannot be associated with {to_type} (type {item.get('type_id')})"
            )
        links.append((to_type, to_id, type_id))
    return links


def object_create(ctx: Ctx, hub: int, object_type: str):
    body = ctx.json({}) or {}
    object_type = _object_type(object_type)
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        links = _links(portal, object_type, body.get("associations"))
        props = records.validate(
            portal, object_type, body.get("properties") or {}, current=None, lenient=True
        )
        record = records.create(ctx.sb, portal, object_type, props, user_source(portal))
        records.apply_associations(portal, object_type, record["id"], links)
        return raw_record(portal, object_type, record), 201


def objects_list(ctx: Ctx, hub: int, object_type: str):
    object_type = _object_type(object_type)
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        return [
            raw_record(portal, object_type, r)
            for r in portal.records.get(object_type, {}).values()
            if not r["archived"]
        ]


def _record(portal: Portal, object_type: str, object_id: str) -> dict[str, Any]:
    record = portal.record(object_type, object_id)
    if record is None:
        raise not_found(f"{object_type} {object_id} does not exist in portal {portal.hub_id}")
    return record


def object_get(ctx: Ctx, hub: int, object_type: str, object_id: str):
    object_type = _object_type(object_type)
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        return raw_record(portal, object_type, _record(portal, object_type, object_id))


def object_update(ctx: Ctx, hub: int, object_type: str, object_id: str):
    body = ctx.json({}) or {}
    object_type = _object_type(object_type)
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        record = _record(portal, object_type, object_id)
        props = records.validate(
            portal,
            object_type,
            body.get("properties") or {},
            current=record["properties"],
            lenient=True,
        )
        records.update(ctx.sb, portal, object_type, record, props, user_source(portal))
        links = _links(portal, object_type, body.get("associations"), record["id"])
        records.apply_associations(portal, object_type, record["id"], links)
        return raw_record(portal, object_type, record)


def object_delete(ctx: Ctx, hub: int, object_type: str, object_id: str):
    object_type = _object_type(object_type)
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        record = _record(portal, object_type, object_id)
        records.archive(ctx.sb, portal, object_type, record, user_source(portal))
    return Response(status=204)


def object_restore(ctx: Ctx, hub: int, object_type: str, object_id: str):
    """A user restores an archived record from the recycling bin (HubSpot's UI; the public API
    has no restore for most objects)."""
    object_type = _object_type(object_type)
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        record = portal.records.get(object_type, {}).get(str(object_id))
        if record is None or not record["archived"]:
            raise not_found(f"{object_type} {object_id} is not in the recycling bin")
        records.restore(ctx.sb, portal, object_type, record, user_source(portal))
        return raw_record(portal, object_type, record)


def contact_privacy_delete(ctx: Ctx, hub: int, contact_id: str):
    """A user deletes the contact for privacy (HubSpot's "Permanently delete" under GDPR)."""
    body = ctx.json({}) or {}
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        record = _record(portal, "contacts", contact_id)
        records.privacy_delete(
            ctx.sb, portal, "contacts", record, user_source(portal, body.get("user_id"))
        )
    return Response(status=204)


def deal_stage(ctx: Ctx, hub: int, deal_id: str):
    body = ctx.json({}) or {}
    stage = body.get("stage")
    if not stage:
        raise validation_error("stage is required")
    with ctx.sb.store.lock:
        portal = _portal(ctx, hub)
        record = _record(portal, "deals", deal_id)
        props = records.validate(
            portal, "deals", {"dealstage": stage}, current=record["properties"]
        )
        records.update(
            ctx.sb, portal, "deals", record, props, user_source(portal, body.get("user_id"))
        )
        return raw_record(portal, "deals", record)


def tokens_create(ctx: Ctx):
    body = ctx.json({}) or {}
    with ctx.sb.store.lock:
        portal = _portal(ctx, body.get("portal", seed.DEFAULT_HUB))
        app = ctx.sb.store.app
        scopes = body.get("scopes")
        if scopes is None:
            scopes = list(
                dict.fromkeys(["oauth", *app["required_scopes"], *app["optional_scopes"]])
            )
        user = portal.user(body.get("user_id"))
        pair = auth.issue_tokens(ctx.sb, portal, int(user["id"]), list(scopes))
        return {**pair, "hub_id": portal.hub_id, "user_id": user["id"], "scopes": scopes}, 201


def tokens_stats(ctx: Ctx):
    with ctx.sb.store.lock:
        store = ctx.sb.store
        now = ctx.sb.clock.now()
        return {
            "token_calls": dict(store.token_calls),
            "refused": dict(store.token_refused),
            "access_tokens": len(store.access_tokens),
            "access_tokens_valid": sum(
                1
                for t in store.access_tokens.values()
                if auth.token_state(ctx.sb, t)[0] and t["expires_at"] > now
            ),
            "refresh_tokens": len(store.refresh_tokens),
            "revoked": sum(1 for r in store.refresh_tokens.values() if r["revoked"]),
        }


def requests_list(ctx: Ctx):
    portal = ctx.request.args.get("portal")
    prefix = ctx.request.args.get("path_prefix") or ""
    method = (ctx.request.args.get("method") or "").upper()
    entries = list(ctx.sb.request_log)
    return [
        e
        for e in entries
        if (not portal or str(e["portal"]) == portal)
        and e["path"].startswith(prefix)
        and (not method or e["method"] == method)
    ]


def requests_clear(ctx: Ctx):
    ctx.sb.request_log.clear()
    return Response(status=204)


def _file(ctx: Ctx, file_id: str) -> tuple[Portal, dict[str, Any]]:
    for portal in ctx.sb.store.portals.values():
        if file_id in portal.files:
            return portal, portal.files[file_id]
    raise not_found(f"There is no file {file_id} in the sandbox.")


def file_get(ctx: Ctx, file_id: str):
    from sandbox.hubspot.files import file_view

    with ctx.sb.store.lock:
        portal, meta = _file(ctx, file_id)
        view = file_view(ctx, portal, meta)
        view["portal"] = portal.hub_id
        view["content_type"] = meta["content_type"]
        view["content_b64"] = base64.b64encode(meta["content"]).decode()
        return view


def file_content(ctx: Ctx, file_id: str):
    with ctx.sb.store.lock:
        _portal_, meta = _file(ctx, file_id)
        return Response(meta["content"], mimetype=meta["content_type"])


def clock_get(ctx: Ctx):
    return {"now_ms": ctx.sb.clock.now_ms(), "offset_seconds": ctx.sb.clock.offset}


def clock_advance(ctx: Ctx):
    body = ctx.json({}) or {}
    try:
        seconds = float(body.get("advance_seconds", 0))
    except (TypeError, ValueError):
        raise validation_error("advance_seconds must be a number") from None
    ctx.sb.clock.advance(seconds)
    return clock_get(ctx)


def routes() -> list[Route]:
    p = "/_sandbox/portals/<int:hub>"
    return [
        Route("/_sandbox/reset", ["POST"], reset, "admin"),
        Route("/_sandbox/app", ["GET"], app_get, "admin"),
        Route("/_sandbox/app", ["POST"], app_update, "admin"),
        Route("/_sandbox/portals", ["GET"], portals_list, "admin"),
        Route("/_sandbox/portals", ["POST"], portal_create, "admin"),
        Route(p, ["GET"], portal_get, "admin"),
        Route(f"{p}/account", ["PATCH"], account_update, "admin"),
        Route(f"{p}/objects/<object_type>", ["POST"], object_create, "admin"),
        Route(f"{p}/objects/<object_type>", ["GET"], objects_list, "admin"),
        Route(f"{p}/objects/<object_type>/<object_id>", ["GET"], object_get, "admin"),
        Route(f"{p}/objects/<object_type>/<object_id>", ["PATCH"], object_update, "admin"),
        Route(f"{p}/objects/<object_type>/<object_id>", ["DELETE"], object_delete, "admin"),
        Route(f"{p}/objects/<object_type>/<object_id>/restore", ["POST"], object_restore, "admin"),
        Route(f"{p}/deals/<deal_id>/stage", ["POST"], deal_stage, "admin"),
        Route(
            f"{p}/contacts/<contact_id>/privacy-delete", ["POST"], contact_privacy_delete, "admin"
        ),
        Route("/_sandbox/tokens", ["POST"], tokens_create, "admin"),
        Route("/_sandbox/tokens/stats", ["GET"], tokens_stats, "admin"),
        Route("/_sandbox/requests", ["GET"], requests_list, "admin"),
        Route("/_sandbox/requests", ["DELETE"], requests_clear, "admin"),
        Route("/_sandbox/files/<file_id>", ["GET"], file_get, "admin"),
        Route("/_sandbox/files/<file_id>/content", ["GET"], file_content, "admin"),
        Route("/_sandbox/clock", ["GET"], clock_get, "admin"),
        Route("/_sandbox/clock", ["POST"], clock_advance, "admin"),
    ]
