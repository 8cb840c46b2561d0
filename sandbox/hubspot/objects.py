"""CRM objects v3 (/crm/v3/objects/{type}…): read, list, create, update, archive, batch and
search, at the paths and with the bodies hubspot-api-client 12 uses (hubspot-api.md §6)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Response

from sandbox.hubspot import records, schema
from sandbox.hubspot.http import ApiError, error_body, not_found, validation_error
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.store import Portal, Source, iso

BATCH_MAX = 100  # hubspot-api.md §6, batch limits
LIST_MAX = 100
SEARCH_MAX = 200  # hubspot-api.md §6, search: 200 records per page
SEARCH_GROUPS_MAX = 5
SEARCH_FILTERS_PER_GROUP_MAX = 6
SEARCH_FILTERS_MAX = 18
SEARCH_RESULTS_MAX = 10_000


# HubSpot's tasks guide lists the contacts scopes as the ones the tasks API requires.
TASK_SCOPES = {
    "read": ["crm.objects.contacts.read", "crm.objects.contacts.write"],
    "write": ["crm.objects.contacts.write"],
}


def read_scopes(object_type: str) -> list[str]:
    if object_type == "tasks":
        return TASK_SCOPES["read"]
    if object_type == "notes":
        return [
            "crm.objects.notes.read",
            "crm.objects.contacts.read",
            "crm.objects.companies.read",
            "crm.objects.deals.read",
        ]
    scopes = [f"crm.objects.{object_type}.read", f"crm.objects.{object_type}.write"]
    if object_type in ("products", "line_items"):
        scopes.append("e-commerce")
    return scopes


def write_scopes(object_type: str) -> list[str]:
    if object_type == "tasks":
        return TASK_SCOPES["write"]
    if object_type == "notes":  # UNCONFIRMED which scope notes need (README.md)
        return [
            "crm.objects.notes.write",
            "crm.objects.contacts.write",
            "crm.objects.companies.write",
            "crm.objects.deals.write",
        ]
    scopes = [f"crm.objects.{object_type}.write"]
    if object_type in ("products", "line_items"):
        scopes.append("e-commerce")
    return scopes


def app_source(ctx: Ctx) -> Source:
    return Source("INTEGRATION", str(ctx.sb.store.app["app_id"]))


def _resolve(ctx: Ctx, raw_type: str, write: bool = False) -> str:
    object_type = schema.object_type(raw_type)
    ctx.require_scopes(*(write_scopes(object_type) if write else read_scopes(object_type)))
    return object_type


def _object_not_found() -> ApiError:
    return not_found("resource not found")


def _find(
    portal: Portal, object_type: str, object_id: str, id_property: str | None = None
) -> dict[str, Any] | None:
    if id_property and id_property != "hs_object_id":
        for record in portal.records.get(object_type, {}).values():
            if not record["archived"] and record["properties"].get(id_property) == object_id:
                return record
        return None
    return portal.record(object_type, object_id)


def _body(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json({})
    if not isinstance(body, dict):
        raise validation_error("the body must be a JSON object")
    return body


# -- single records ---------------------------------------------------------------------------


def get_by_id(ctx: Ctx, object_type: str, object_id: str):
    object_type = _resolve(ctx, object_type)
    with ctx.sb.store.lock:
        record = _find(ctx.portal, object_type, object_id, ctx.request.args.get("idProperty"))
        archived = ctx.request.args.get("archived", "false").lower() == "true"
        if record is None and archived:
            record = ctx.portal.records.get(object_type, {}).get(object_id)
        if record is None:
            raise _object_not_found()
        return records.view(
            ctx.portal,
            object_type,
            record,
            ctx.arg_list("properties"),
            ctx.arg_list("associations"),
        )


def get_page(ctx: Ctx, object_type: str):
    object_type = _resolve(ctx, object_type)
    args = ctx.request.args
    try:
        limit = int(args.get("limit", 10))
        after = int(args.get("after") or 0)
    except ValueError:
        raise validation_error("limit and after must be numbers") from None
    if limit < 1 or limit > LIST_MAX:
        raise validation_error(f"limit must be between 1 and {LIST_MAX}")
    archived = args.get("archived", "false").lower() == "true"
    with ctx.sb.store.lock:
        rows = [
            r
            for r in ctx.portal.records.get(object_type, {}).values()
            if r["archived"] == archived and int(r["id"]) > after
        ]
        rows.sort(key=lambda r: int(r["id"]))
        page = rows[:limit]
        result: dict[str, Any] = {
            "results": [
                records.view(
                    ctx.portal,
                    object_type,
                    r,
                    ctx.arg_list("properties"),
                    ctx.arg_list("associations"),
                )
                for r in page
            ]
        }
        if len(rows) > limit:
            next_after = page[-1]["id"]
            result["paging"] = {
                "next": {
                    "after": next_after,
                    "link": f"{ctx.base_url}{ctx.request.path}?after={next_after}",
                }
            }
        return result


def create(ctx: Ctx, object_type: str):
    object_type = _resolve(ctx, object_type, write=True)
    body = _body(ctx)
    with ctx.sb.store.lock:
        portal = ctx.portal
        links = records.check_association_inputs(portal, object_type, body.get("associations"))
        props = records.validate(portal, object_type, body.get("properties"), current=None)
        record = records.create(ctx.sb, portal, object_type, props, app_source(ctx))
        records.apply_associations(portal, object_type, record["id"], links)
        return records.view(portal, object_type, record, list(props) or None), 201


def update(ctx: Ctx, object_type: str, object_id: str):
    object_type = _resolve(ctx, object_type, write=True)
    body = _body(ctx)
    with ctx.sb.store.lock:
        portal = ctx.portal
        record = _find(portal, object_type, object_id, ctx.request.args.get("idProperty"))
        if record is None:
            raise _object_not_found()
        props = records.validate(
            portal, object_type, body.get("properties"), current=record["properties"]
        )
        records.update(ctx.sb, portal, object_type, record, props, app_source(ctx))
        return records.view(portal, object_type, record, list(props) or None)


def archive(ctx: Ctx, object_type: str, object_id: str):
    object_type = _resolve(ctx, object_type, write=True)
    with ctx.sb.store.lock:
        record = ctx.portal.record(object_type, object_id)
        if record is not None:  # HubSpot answers 204 for an id that is already gone
            records.archive(ctx.sb, ctx.portal, object_type, record, app_source(ctx))
    return Response(status=204)


# -- batch --------------------------------------------------------------------------------------


def _inputs(body: dict[str, Any]) -> list[Any]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs is required")
    if len(inputs) > BATCH_MAX:
        raise validation_error(
            f"Batch input limit exceeded: {len(inputs)} inputs; the limit is {BATCH_MAX}."
        )
    return inputs


def _batch_result(ctx: Ctx, results: list[Any], errors: list[dict[str, Any]], started: str):
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": iso(ctx.sb.clock.now()),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return body


def _missing_error(object_type: str, ids: list[str], action: str = "get") -> dict[str, Any]:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": f"Could not {action} some {object_type} objects, they may be deleted or not "
        "exist. Check that ids are valid.",
        "context": {"ids": ids},
        "errors": [],
        "links": {},
    }


def batch_read(ctx: Ctx, object_type: str):
    object_type = _resolve(ctx, object_type)
    body = _body(ctx)
    inputs = _inputs(body)
    started = iso(ctx.sb.clock.now())
    properties = body.get("properties") or None
    with ctx.sb.store.lock:
        found, missing = [], []
        for item in inputs:
            object_id = str((item or {}).get("id", ""))
            record = _find(ctx.portal, object_type, object_id, body.get("idProperty"))
            if record is None:
                missing.append(object_id)
            else:
                found.append(records.view(ctx.portal, object_type, record, properties))
        errors = [_missing_error(object_type, missing)] if missing else []
        return _batch_result(ctx, found, errors, started), (207 if missing else 200)


def batch_create(ctx: Ctx, object_type: str):
    object_type = _resolve(ctx, object_type, write=True)
    inputs = _inputs(_body(ctx))
    started = iso(ctx.sb.clock.now())
    with ctx.sb.store.lock:
        portal = ctx.portal
        checked = []
        for item in inputs:  # all or nothing, like HubSpot's batch create
            if not isinstance(item, dict):
                raise validation_error("each input must be an object")
            links = records.check_association_inputs(portal, object_type, item.get("associations"))
            props = records.validate(portal, object_type, item.get("properties"), current=None)
            checked.append((props, links))
        results = []
        for props, links in checked:
            record = records.create(ctx.sb, portal, object_type, props, app_source(ctx))
            records.apply_associations(portal, object_type, record["id"], links)
            results.append(records.view(portal, object_type, record, list(props) or None))
        return _batch_result(ctx, results, [], started), 201


def batch_update(ctx: Ctx, object_type: str):
    object_type = _resolve(ctx, object_type, write=True)
    body = _body(ctx)
    inputs = _inputs(body)
    started = iso(ctx.sb.clock.now())
    ids = [str(item.get("id", "")) for item in inputs if isinstance(item, dict)]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:  # HubSpot refuses the whole batch, updating none
        raise validation_error(
            f"Duplicate IDs found in batch input: [{', '.join(repeated)}]. IDs must be unique"
        )
    with ctx.sb.store.lock:
        portal = ctx.portal
        checked, missing = [], []
        for item in inputs:
            if not isinstance(item, dict):
                raise validation_error("each input must be an object")
            object_id = str(item.get("id", ""))
            record = _find(portal, object_type, object_id, item.get("idProperty"))
            if record is None:
                missing.append(object_id)
                continue
            props = records.validate(
                portal, object_type, item.get("properties"), current=record["properties"]
            )
            checked.append((record, props))
        results = []
        for record, props in checked:
            records.update(ctx.sb, portal, object_type, record, props, app_source(ctx))
            results.append(records.view(portal, object_type, record, list(props) or None))
        errors = [_missing_error(object_type, missing, "update")] if missing else []
        return _batch_result(ctx, results, errors, started), (207 if missing else 200)


def batch_archive(ctx: Ctx, object_type: str):
    object_type = _resolve(ctx, object_type, write=True)
    inputs = _inputs(_body(ctx))
    with ctx.sb.store.lock:
        for item in inputs:
            record = ctx.portal.record(object_type, str((item or {}).get("id", "")))
            if record is not None:
                records.archive(ctx.sb, ctx.portal, object_type, record, app_source(ctx))
    return Response(status=204)


# -- search -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[\w@.+-]+", re.UNICODE)


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _comparable(portal: Portal, object_type: str, name: str, value: Any) -> Any:
    """A value in the form `name`'s type compares in: numbers, epoch ms, lower-case text."""
    if value is None or value == "":
        return None
    prop = portal.property(object_type, name)
    ptype = prop["type"] if prop else "string"
    if ptype == "number":
        return _number(value)
    if ptype in ("datetime", "date"):
        try:
            return records._to_ms(value)
        except (ValueError, OverflowError):
            return None
    return str(value).lower()


def _matches(portal: Portal, object_type: str, record: dict[str, Any], flt: dict) -> bool:
    name = flt.get("propertyName") or ""
    operator = flt.get("operator") or "EQ"
    if name.startswith("associations."):
        to_type = schema.object_type(name.split(".", 1)[1])
        linked = portal.associated(object_type, record["id"], to_type)
        wanted = (
            [str(flt.get("value"))]
            if operator == "EQ"
            else [str(v) for v in flt.get("values") or []]
        )
        hit = any(w in linked for w in wanted)
        return hit if operator in ("EQ", "IN") else not hit
    raw = record["id"] if name == "hs_object_id" else record["properties"].get(name)
    have = _comparable(portal, object_type, name, raw)
    if operator == "HAS_PROPERTY":
        return have is not None
    if operator == "NOT_HAS_PROPERTY":
        return have is None
    if operator in ("IN", "NOT_IN"):
        values = {_comparable(portal, object_type, name, v) for v in flt.get("values") or []}
        return (have in values) if operator == "IN" else (have not in values)
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = re.escape(str(flt.get("value", "")).lower()).replace(r"\*", ".*")
        tokens = _TOKEN.findall(str(raw or "").lower())
        hit = any(re.fullmatch(pattern, t) for t in tokens) or bool(
            raw and re.fullmatch(pattern, str(raw).lower())
        )
        return hit if operator == "CONTAINS_TOKEN" else not hit
    want = _comparable(portal, object_type, name, flt.get("value"))
    if operator == "EQ":
        return have is not None and have == want
    if operator == "NEQ":
        return have != want
    if have is None or want is None:
        return False
    try:
        if operator == "GT":
            return have > want
        if operator == "GTE":
            return have >= want
        if operator == "LT":
            return have < want
        if operator == "LTE":
            return have <= want
        if operator == "BETWEEN":
            high = _comparable(portal, object_type, name, flt.get("highValue"))
            return high is not None and want <= have <= high
    except TypeError:
        return False
    return False


OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}


def _check_search(portal: Portal, object_type: str, body: dict[str, Any]) -> None:
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list):
        raise validation_error("filterGroups must be a list")
    if len(groups) > SEARCH_GROUPS_MAX:
        raise validation_error(f"Too many filter groups: the limit is {SEARCH_GROUPS_MAX}.")
    total = 0
    for group in groups:
        filters = (group or {}).get("filters") or []
        total += len(filters)
        if len(filters) > SEARCH_FILTERS_PER_GROUP_MAX:
            raise validation_error(
                f"Too many filters in a group: the limit is {SEARCH_FILTERS_PER_GROUP_MAX}."
            )
        for flt in filters:
            name = (flt or {}).get("propertyName") or ""
            if flt.get("operator", "EQ") not in OPERATORS:
                raise validation_error(f"Unknown filter operator {flt.get('operator')}")
            if name.startswith("associations.") or name == "hs_object_id":
                continue
            if portal.property(object_type, name) is None:
                raise ApiError(
                    400,
                    error_body(
                        f"There was a problem with the request: property {name} does not exist.",
                        "VALIDATION_ERROR",
                    ),
                )
    if total > SEARCH_FILTERS_MAX:
        raise validation_error(f"Too many filters: the limit is {SEARCH_FILTERS_MAX}.")


def _sort_key(portal: Portal, object_type: str, name: str):
    def key(record: dict[str, Any]):
        raw = record["id"] if name in ("hs_object_id", "id") else record["properties"].get(name)
        value = _comparable(portal, object_type, name, raw)
        return (value is None, value if value is not None else 0)

    return key


def search(ctx: Ctx, object_type: str):
    object_type = _resolve(ctx, object_type)
    body = _body(ctx)
    try:
        limit = int(body.get("limit") or 10)
        after = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise validation_error("limit and after must be numbers") from None
    if limit < 1 or limit > SEARCH_MAX:
        raise validation_error(f"limit must be between 1 and {SEARCH_MAX}")
    if after + limit > SEARCH_RESULTS_MAX:
        raise validation_error(f"Search returns at most {SEARCH_RESULTS_MAX} results")
    with ctx.sb.store.lock:
        portal = ctx.portal
        _check_search(portal, object_type, body)
        rows = [r for r in portal.records.get(object_type, {}).values() if not r["archived"]]
        groups = [g for g in body.get("filterGroups") or [] if (g or {}).get("filters")]
        if groups:
            rows = [
                r
                for r in rows
                if any(
                    all(_matches(portal, object_type, r, f) for f in g["filters"]) for g in groups
                )
            ]
        query = str(body.get("query") or "").strip().lower()
        if query:
            names = schema.QUERY_PROPERTIES.get(object_type, [])
            rows = [
                r
                for r in rows
                if any(query in str(r["properties"].get(n, "")).lower() for n in names)
            ]
        rows.sort(key=lambda r: int(r["id"]))
        for sort in (body.get("sorts") or [])[:1]:
            if isinstance(sort, str):
                name, descending = sort.lstrip("-"), sort.startswith("-")
            else:
                name = sort.get("propertyName", "hs_object_id")
                descending = sort.get("direction", "ASCENDING") == "DESCENDING"
            rows.sort(key=_sort_key(portal, object_type, name), reverse=descending)
        page = rows[after : after + limit]
        properties = body.get("properties") or None
        result: dict[str, Any] = {
            "total": len(rows),
            "results": [records.view(portal, object_type, r, properties) for r in page],
        }
        if after + limit < len(rows):
            result["paging"] = {"next": {"after": str(after + limit)}}
        return result


def routes() -> list[Route]:
    base = "/crm/v3/objects/<object_type>"
    return [
        Route(base, ["GET"], get_page),
        Route(base, ["POST"], create),
        Route(f"{base}/search", ["POST"], search, "search"),
        Route(f"{base}/batch/read", ["POST"], batch_read),
        Route(f"{base}/batch/create", ["POST"], batch_create),
        Route(f"{base}/batch/update", ["POST"], batch_update),
        Route(f"{base}/batch/archive", ["POST"], batch_archive),
        Route(f"{base}/<object_id>", ["GET"], get_by_id),
        Route(f"{base}/<object_id>", ["PATCH"], update),
        Route(f"{base}/<object_id>", ["DELETE"], archive),
    ]
