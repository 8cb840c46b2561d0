"""Lists (segments), Lists API v3: search, one list, its memberships; and the admin route that
makes a list with members (`POST /_sandbox/portals/<hub>/lists`).

Paths and shapes follow hubspot-api-client 12 (`crm.lists`): `POST /crm/v3/lists/search`
(`ListSearchRequest`: query, offset, count, additionalProperties; answer lists, offset,
hasMore, total), `GET /crm/v3/lists/{listId}` (`{"list": {...}}`) and
`GET /crm/v3/lists/{listId}/memberships` (`limit` at most 250, `after`; results of
`{recordId, membershipTimestamp}` in ascending record id, `paging.next.after`). Guesses are in
README.md ("Lists"): the `after` token's form, the size in `additionalProperties.hs_list_size`,
the answer to a limit above 250, and that deleted records leave a list at once.
"""

from __future__ import annotations

import base64
from typing import Any

from sandbox.hubspot import schema
from sandbox.hubspot.http import ApiError, error_body, not_found, validation_error
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.store import Portal, iso

LISTS_SCOPES = ("crm.lists.read", "crm.lists.write")
MEMBERSHIPS_LIMIT_MAX = 250
SEARCH_COUNT_MAX = 500


def _members(portal: Portal, item: dict[str, Any]) -> list[str]:
    """The list's members that still exist, in ascending record id."""
    object_type = schema.object_type(item["objectTypeId"])
    live = [
        rid
        for rid in item["members"]
        if (record := portal.record(object_type, rid)) is not None and not record["archived"]
    ]
    return sorted(live, key=int)


def _view(portal: Portal, item: dict[str, Any], extra: list[str] | None = None) -> dict[str, Any]:
    view = {
        "listId": item["listId"],
        "listVersion": 1,
        "name": item["name"],
        "objectTypeId": item["objectTypeId"],
        "processingStatus": "COMPLETE",
        "processingType": item["processingType"],
        "createdAt": item["createdAt"],
        "updatedAt": item["createdAt"],
        "filtersUpdatedAt": item["createdAt"],
        "createdById": item["createdById"],
        "updatedById": item["createdById"],
    }
    size = str(len(_members(portal, item)))
    view["additionalProperties"] = {"hs_list_size": size}
    if extra is not None:
        view["additionalProperties"].update({name: "" for name in extra if name != "hs_list_size"})
    return view


def _list(ctx: Ctx, list_id: str) -> dict[str, Any]:
    item = ctx.portal.lists.get(str(list_id))
    if item is None:
        raise not_found(f"List {list_id} does not exist.")
    return item


def search(ctx: Ctx):
    ctx.require_scopes(*LISTS_SCOPES)
    body = ctx.json({}) or {}
    try:
        offset = int(body.get("offset") or 0)
        count = int(body.get("count") or 20)
    except (TypeError, ValueError):
        raise validation_error("offset and count must be numbers") from None
    if count < 1 or count > SEARCH_COUNT_MAX:
        raise validation_error(f"count must be between 1 and {SEARCH_COUNT_MAX}")
    query = str(body.get("query") or "").strip().lower()
    wanted_ids = {str(i) for i in body.get("listIds") or []}
    extra = [str(p) for p in body.get("additionalProperties") or []]
    with ctx.sb.store.lock:
        portal = ctx.portal
        rows = [
            item
            for item in portal.lists.values()
            if (not query or query in item["name"].lower())
            and (not wanted_ids or item["listId"] in wanted_ids)
        ]
        rows.sort(key=lambda item: int(item["listId"]))
        page = rows[offset : offset + count]
        return {
            "lists": [_view(portal, item, extra) for item in page],
            "offset": offset + len(page),
            "hasMore": offset + count < len(rows),
            "total": len(rows),
        }


def get_by_id(ctx: Ctx, list_id: str):
    ctx.require_scopes(*LISTS_SCOPES)
    with ctx.sb.store.lock:
        return {"list": _view(ctx.portal, _list(ctx, list_id))}


def _token(record_id: str) -> str:
    return base64.urlsafe_b64encode(f"after:{record_id}".encode()).decode().rstrip("=")


def _untoken(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raw = ""
    if not raw.startswith("after:") or not raw[6:].isdigit():
        raise validation_error(f"Invalid paging token: {token}")
    return raw[6:]


def memberships(ctx: Ctx, list_id: str):
    ctx.require_scopes(*LISTS_SCOPES)
    try:
        limit = int(ctx.request.args.get("limit") or 100)
    except ValueError:
        raise validation_error("limit must be a number") from None
    if limit < 1 or limit > MEMBERSHIPS_LIMIT_MAX:
        raise ApiError(
            400,
            error_body(f"limit must be between 1 and {MEMBERSHIPS_LIMIT_MAX}", "VALIDATION_ERROR"),
        )
    after = ctx.request.args.get("after")
    with ctx.sb.store.lock:
        item = _list(ctx, list_id)
        members = _members(ctx.portal, item)
        if after:
            last = int(_untoken(after))
            members = [rid for rid in members if int(rid) > last]
        page = members[:limit]
        result: dict[str, Any] = {
            "results": [{"recordId": rid, "membershipTimestamp": item["createdAt"]} for rid in page]
        }
        if len(members) > limit:
            result["paging"] = {"next": {"after": _token(page[-1])}}
        return result


# -- admin --------------------------------------------------------------------------------------


def admin_create(ctx: Ctx, hub: int):
    """{"name", "object_type" (companies by default), "record_ids": [...],
    "processing_type": MANUAL | DYNAMIC | SNAPSHOT} → 201 the list as the API shows it."""
    body = ctx.json({}) or {}
    name = str(body.get("name") or "").strip()
    if not name:
        raise validation_error("name is required")
    object_type = schema.object_type(str(body.get("object_type") or "companies"))
    with ctx.sb.store.lock:
        portal = ctx.sb.store.portal(hub)
        if portal is None:
            raise not_found(f"There is no portal {hub} in the sandbox.")
        ids = [str(i) for i in body.get("record_ids") or []]
        missing = [i for i in ids if portal.record(object_type, i) is None]
        if missing:
            raise validation_error(f"No {object_type} with ids {', '.join(missing)}")
        list_id = portal.new_id()
        item = {
            "listId": list_id,
            "name": name,
            "objectTypeId": schema.type_id(object_type),
            "processingType": str(body.get("processing_type") or "MANUAL"),
            "createdAt": iso(ctx.sb.clock.now()),
            "createdById": str(portal.user()["id"]),
            "members": list(dict.fromkeys(ids)),
        }
        portal.lists[list_id] = item
        return _view(portal, item), 201


def routes() -> list[Route]:
    return [
        Route("/crm/v3/lists/search", ["POST"], search),
        Route("/crm/v3/lists/<list_id>", ["GET"], get_by_id),
        Route("/crm/v3/lists/<list_id>/memberships", ["GET"], memberships),
        Route("/_sandbox/portals/<int:hub>/lists", ["POST"], admin_create, "admin"),
    ]
