"""Associations v4 (/crm/v4/…) and the v3 PUT that associates an existing record.

Type ids are HubSpot's HUBSPOT_DEFINED ones (schema.ASSOCIATION_TYPES: note→deal 214, line
item→deal 20, deal→company 5 primary / 341, …); an id that does not belong to the pair is a 400.
Every labelled association also has the pair's unlabeled type, as in HubSpot.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from sandbox.hubspot import records, schema
from sandbox.hubspot.http import not_found, validation_error
from sandbox.hubspot.objects import read_scopes, write_scopes
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.store import Portal, iso

PAGE_MAX = 500


def _types(ctx: Ctx, from_type: str, to_type: str, write: bool = False) -> tuple[str, str]:
    a, b = schema.object_type(from_type), schema.object_type(to_type)
    ctx.require_scopes(*(write_scopes(a) if write else read_scopes(a)))
    return a, b


def _need(portal: Portal, object_type: str, object_id: str) -> None:
    if portal.record(object_type, object_id) is None:
        raise not_found(f"{schema.singular(object_type)} {object_id} does not exist")


def _labels(type_ids: list[int]) -> list[dict[str, Any]]:
    return [
        {"category": "HUBSPOT_DEFINED", "typeId": tid, "label": schema.ASSOCIATION_TYPES[tid][3]}
        for tid in type_ids
    ]


def _to_int(value: str) -> Any:
    return int(value) if str(value).isdigit() else value


def _check_specs(from_type: str, to_type: str, specs: Any) -> list[int]:
    if not isinstance(specs, list) or not specs:
        raise validation_error(
            "The body must be a list of {associationCategory, associationTypeId}"
        )
    type_ids = []
    for spec in specs:
        try:
            category = spec.get("associationCategory")
            type_id = int(spec.get("associationTypeId"))
        except (AttributeError, TypeError, ValueError):
            raise validation_error("associationTypeId must be a number") from None
        if category != "HUBSPOT_DEFINED" or not schema.association_type_valid(
            from_type, to_type, type_id
        ):
            raise validation_error(
                f"{category} association type {type_id} is not valid between {from_type} and "
                f"{to_type}",
                errors=[
                    {
                        "message": f"invalid association type {type_id} "
                        f"from {from_type} to {to_type}",
                        "code": "INVALID_ASSOCIATION_TYPE",
                    }
                ],
            )
        type_ids.append(type_id)
    return type_ids


def _pair(portal: Portal, from_type: str, from_id: str, to_type: str, to_id: str) -> dict:
    linked = portal.associated(from_type, from_id, to_type).get(str(to_id), [])
    return {
        "fromObjectTypeId": schema.type_id(from_type),
        "fromObjectId": _to_int(from_id),
        "toObjectTypeId": schema.type_id(to_type),
        "toObjectId": _to_int(to_id),
        "labels": [
            schema.ASSOCIATION_TYPES[t][3] for t in linked if schema.ASSOCIATION_TYPES[t][3]
        ],
    }


def _link(portal: Portal, from_type: str, from_id: str, to_type: str, to_id: str, tid: int):
    records.apply_associations(portal, from_type, from_id, [(to_type, str(to_id), tid)])


# -- v4 single ---------------------------------------------------------------------------------


def get_page(ctx: Ctx, object_type: str, object_id: str, to_object_type: str):
    from_type, to_type = _types(ctx, object_type, to_object_type)
    args = ctx.request.args
    try:
        limit = int(args.get("limit", PAGE_MAX))
        after = int(args.get("after") or 0)
    except ValueError:
        raise validation_error("limit and after must be numbers") from None
    limit = max(1, min(limit, PAGE_MAX))
    with ctx.sb.store.lock:
        _need(ctx.portal, from_type, object_id)
        linked = list(ctx.portal.associated(from_type, object_id, to_type).items())
        page = linked[after : after + limit]
        result: dict[str, Any] = {
            "results": [
                {"toObjectId": _to_int(to_id), "associationTypes": _labels(tids)}
                for to_id, tids in page
            ]
        }
        if after + limit < len(linked):
            result["paging"] = {"next": {"after": str(after + limit)}}
        return result


def create(ctx: Ctx, object_type: str, object_id: str, to_object_type: str, to_object_id: str):
    from_type, to_type = _types(ctx, object_type, to_object_type, write=True)
    type_ids = _check_specs(from_type, to_type, ctx.json())
    with ctx.sb.store.lock:
        portal = ctx.portal
        _need(portal, from_type, object_id)
        _need(portal, to_type, to_object_id)
        for tid in type_ids:
            _link(portal, from_type, object_id, to_type, to_object_id, tid)
        return _pair(portal, from_type, object_id, to_type, to_object_id), 201


def archive(ctx: Ctx, object_type: str, object_id: str, to_object_type: str, to_object_id: str):
    from_type, to_type = _types(ctx, object_type, to_object_type, write=True)
    with ctx.sb.store.lock:
        ctx.portal.dissociate(from_type, object_id, to_type, to_object_id)
    return Response(status=204)


def _default_result(ctx: Ctx, pairs: list[tuple[str, str, str, str, int]], started: str):
    return {
        "status": "COMPLETE",
        "results": [
            {
                "from": {"id": a_id},
                "to": {"id": b_id},
                "associationSpec": {
                    "associationCategory": "HUBSPOT_DEFINED",
                    "associationTypeId": tid,
                },
            }
            for _a, a_id, _b, b_id, tid in pairs
        ],
        "startedAt": started,
        "completedAt": iso(ctx.sb.clock.now()),
    }


def create_default(
    ctx: Ctx, from_object_type: str, from_object_id: str, to_object_type: str, to_object_id: str
):
    from_type, to_type = _types(ctx, from_object_type, to_object_type, write=True)
    tid = schema.DEFAULT_TYPE.get((from_type, to_type))
    if tid is None:
        raise validation_error(f"{from_type} cannot be associated with {to_type}")
    started = iso(ctx.sb.clock.now())
    with ctx.sb.store.lock:
        _need(ctx.portal, from_type, from_object_id)
        _need(ctx.portal, to_type, to_object_id)
        _link(ctx.portal, from_type, from_object_id, to_type, to_object_id, tid)
        pairs = [
            (from_type, from_object_id, to_type, to_object_id, tid),
            (to_type, to_object_id, from_type, from_object_id, schema.INVERSE[tid]),
        ]
        return _default_result(ctx, pairs, started)


# -- v4 batch ----------------------------------------------------------------------------------


def _inputs(ctx: Ctx) -> list[Any]:
    body = ctx.json({}) or {}
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise validation_error("inputs is required")
    if len(inputs) > 1000:
        raise validation_error("Batch input limit exceeded: the limit is 1000.")
    return inputs


def batch_read(ctx: Ctx, from_object_type: str, to_object_type: str):
    from_type, to_type = _types(ctx, from_object_type, to_object_type)
    inputs = _inputs(ctx)
    started = iso(ctx.sb.clock.now())
    with ctx.sb.store.lock:
        results, missing = [], []
        for item in inputs:
            from_id = str((item or {}).get("id", ""))
            if ctx.portal.record(from_type, from_id) is None:
                missing.append(from_id)
                continue
            linked = ctx.portal.associated(from_type, from_id, to_type)
            if not linked:
                missing.append(from_id)  # HubSpot reports ids without associations as errors
                continue
            results.append(
                {
                    "from": {"id": from_id},
                    "to": [
                        {"toObjectId": _to_int(to_id), "associationTypes": _labels(tids)}
                        for to_id, tids in linked.items()
                    ],
                }
            )
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": iso(ctx.sb.clock.now()),
        }
        if missing:
            body["numErrors"] = len(missing)
            body["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {to_type} is associated with {schema.singular(from_type)} {i}.",
                    "context": {"fromObjectId": [i]},
                    "errors": [],
                    "links": {},
                }
                for i in missing
            ]
        return body, (207 if missing else 200)


def batch_create(ctx: Ctx, from_object_type: str, to_object_type: str):
    from_type, to_type = _types(ctx, from_object_type, to_object_type, write=True)
    inputs = _inputs(ctx)
    started = iso(ctx.sb.clock.now())
    with ctx.sb.store.lock:
        planned = []
        for item in inputs:
            try:
                from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
            except (KeyError, TypeError):
                raise validation_error("each input needs from.id, to.id and types") from None
            type_ids = _check_specs(from_type, to_type, item.get("types"))
            _need(ctx.portal, from_type, from_id)
            _need(ctx.portal, to_type, to_id)
            planned.append((from_id, to_id, type_ids))
        results = []
        for from_id, to_id, type_ids in planned:
            for tid in type_ids:
                _link(ctx.portal, from_type, from_id, to_type, to_id, tid)
            results.append(_pair(ctx.portal, from_type, from_id, to_type, to_id))
        return {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": iso(ctx.sb.clock.now()),
        }, 201


def batch_default(ctx: Ctx, from_object_type: str, to_object_type: str):
    from_type, to_type = _types(ctx, from_object_type, to_object_type, write=True)
    tid = schema.DEFAULT_TYPE.get((from_type, to_type))
    if tid is None:
        raise validation_error(f"{from_type} cannot be associated with {to_type}")
    inputs = _inputs(ctx)
    started = iso(ctx.sb.clock.now())
    with ctx.sb.store.lock:
        pairs = []
        for item in inputs:
            try:
                from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
            except (KeyError, TypeError):
                raise validation_error("each input needs from.id and to.id") from None
            _need(ctx.portal, from_type, from_id)
            _need(ctx.portal, to_type, to_id)
            _link(ctx.portal, from_type, from_id, to_type, to_id, tid)
            pairs.append((from_type, from_id, to_type, to_id, tid))
        return _default_result(ctx, pairs, started)


def batch_archive(ctx: Ctx, from_object_type: str, to_object_type: str):
    from_type, to_type = _types(ctx, from_object_type, to_object_type, write=True)
    with ctx.sb.store.lock:
        for item in _inputs(ctx):
            from_id = str(((item or {}).get("from") or {}).get("id", ""))
            for to in (item or {}).get("to") or []:
                ctx.portal.dissociate(from_type, from_id, to_type, str(to.get("id", "")))
    return Response(status=204)


def labels(ctx: Ctx, from_object_type: str, to_object_type: str):
    from_type, to_type = _types(ctx, from_object_type, to_object_type)
    return {
        "results": [
            {"category": "HUBSPOT_DEFINED", "typeId": tid, "label": spec[3]}
            for tid, spec in schema.ASSOCIATION_TYPES.items()
            if spec[0] == from_type and spec[1] == to_type
        ]
    }


# -- v3 ----------------------------------------------------------------------------------------


def v3_associate(
    ctx: Ctx, object_type: str, object_id: str, to_object_type: str, to_object_id: str, type_id: int
):
    """PUT /crm/v3/objects/{type}/{id}/associations/{toType}/{toId}/{typeId} (hubspot-api.md §6,
    notes): associate an existing record; answers the record with its associations."""
    from_type, to_type = _types(ctx, object_type, to_object_type, write=True)
    _check_specs(
        from_type,
        to_type,
        [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    )
    with ctx.sb.store.lock:
        _need(ctx.portal, from_type, object_id)
        _need(ctx.portal, to_type, to_object_id)
        _link(ctx.portal, from_type, object_id, to_type, to_object_id, type_id)
        record = ctx.portal.record(from_type, object_id)
        return records.view(ctx.portal, from_type, record, None, [to_type])


def routes() -> list[Route]:
    obj = "/crm/v4/objects/<object_type>/<object_id>/associations"
    batch = "/crm/v4/associations/<from_object_type>/<to_object_type>"
    return [
        Route(f"{obj}/<to_object_type>", ["GET"], get_page),
        Route(f"{obj}/<to_object_type>/<to_object_id>", ["PUT"], create),
        Route(f"{obj}/<to_object_type>/<to_object_id>", ["DELETE"], archive),
        Route(
            "/crm/v4/objects/<from_object_type>/<from_object_id>/associations/default/"
            "<to_object_type>/<to_object_id>",
            ["PUT"],
            create_default,
        ),
        Route(f"{batch}/batch/read", ["POST"], batch_read),
        Route(f"{batch}/batch/create", ["POST"], batch_create),
        Route(f"{batch}/batch/associate/default", ["POST"], batch_default),
        Route(f"{batch}/batch/archive", ["POST"], batch_archive),
        Route(f"{batch}/labels", ["GET"], labels),
        Route(
            "/crm/v3/objects/<object_type>/<object_id>/associations/<to_object_type>/"
            "<to_object_id>/<int:type_id>",
            ["PUT"],
            v3_associate,
        ),
    ]
