"""Properties v3 (/crm/v3/properties/{objectType}…): definitions and groups, read and create.

Creating needs crm.schemas.{type}.write; reading accepts the schema or the object read scope.
A duplicate name is 409 OBJECT_ALREADY_EXISTS; batch create answers 207 with an error for each
name that exists and creates the others (README.md).
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Response

from sandbox.hubspot import schema
from sandbox.hubspot.http import ApiError, conflict, error_body, not_found, validation_error
from sandbox.hubspot.objects import read_scopes
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.store import Portal, iso

TYPES = {"string", "number", "date", "datetime", "enumeration", "bool"}
FIELD_TYPES = {
    "textarea",
    "text",
    "date",
    "file",
    "number",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "calculation_equation",
    "phonenumber",
    "html",
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _type(ctx: Ctx, raw: str, write: bool = False) -> str:
    name = schema.object_type(raw)
    if write:
        ctx.require_scopes(f"crm.schemas.{name}.write")
    else:
        ctx.require_scopes(
            f"crm.schemas.{name}.read", f"crm.schemas.{name}.write", *read_scopes(name)
        )
    return name


def _body(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json({})
    if not isinstance(body, dict):
        raise validation_error("the body must be a JSON object")
    return body


# -- properties -------------------------------------------------------------------------------


def get_all(ctx: Ctx, object_type: str):
    object_type = _type(ctx, object_type)
    archived = ctx.request.args.get("archived", "false").lower() == "true"
    with ctx.sb.store.lock:
        portal = ctx.portal
        return {
            "results": [
                portal.property_view(object_type, name)
                for name, prop in portal.properties[object_type].items()
                if bool(prop.get("archived")) == archived
            ]
        }


def get_by_name(ctx: Ctx, object_type: str, name: str):
    object_type = _type(ctx, object_type)
    with ctx.sb.store.lock:
        prop = ctx.portal.property(object_type, name)
        if prop is None or prop.get("archived"):
            raise not_found(f"Unable to find property {name}")
        return ctx.portal.property_view(object_type, name)


def _check_definition(portal: Portal, object_type: str, body: dict[str, Any]) -> None:
    """400 for a definition HubSpot would refuse (409 is the caller's: it depends on timing)."""
    errors = []
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        errors.append({"message": "name must be lower case letters, digits and _", "in": "name"})
    for required in ("label", "groupName", "type", "fieldType"):
        if not body.get(required):
            errors.append({"message": f"{required} is required", "in": required})
    if body.get("type") and body["type"] not in TYPES:
        errors.append(
            {"message": f"type {body['type']} is not one of {sorted(TYPES)}", "in": "type"}
        )
    if body.get("fieldType") and body["fieldType"] not in FIELD_TYPES:
        errors.append({"message": f"fieldType {body['fieldType']} is not valid", "in": "fieldType"})
    if body.get("type") == "enumeration" and not body.get("options"):
        errors.append({"message": "an enumeration needs options", "in": "options"})
    group = body.get("groupName")
    if group and group not in portal.groups.get(object_type, {}):
        errors.append({"message": f"property group {group} does not exist", "in": "groupName"})
    if errors:
        raise validation_error(
            "Invalid input: " + "; ".join(e["message"] for e in errors), errors=errors
        )


def _store_property(ctx: Ctx, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
    portal = ctx.portal
    options = [(o.get("value", ""), o.get("label", "")) for o in body.get("options") or []]
    prop = schema.property_definition(
        object_type,
        body["name"],
        body["label"],
        body["type"],
        body["fieldType"],
        options,
        group=body["groupName"],
        hubspot_defined=False,
        now_iso=iso(ctx.sb.clock.now()),
    )
    prop["description"] = body.get("description") or ""
    prop["displayOrder"] = body.get("displayOrder", -1)
    prop["hidden"] = bool(body.get("hidden", False))
    prop["formField"] = bool(body.get("formField", False))
    prop["hasUniqueValue"] = bool(body.get("hasUniqueValue", False))
    prop["createdUserId"] = str(ctx.token["user_id"]) if ctx.token else None
    for i, raw in enumerate(body.get("options") or []):
        prop["options"][i].update(
            {
                "displayOrder": raw.get("displayOrder", i),
                "hidden": bool(raw.get("hidden", False)),
                "description": raw.get("description") or "",
            }
        )
    portal.properties[object_type][body["name"]] = prop
    return portal.property_view(object_type, body["name"])


def _exists(portal: Portal, object_type: str, name: str) -> bool:
    prop = portal.property(object_type, name)
    return prop is not None and not prop.get("archived")


def create(ctx: Ctx, object_type: str):
    object_type = _type(ctx, object_type, write=True)
    body = _body(ctx)
    with ctx.sb.store.lock:
        _check_definition(ctx.portal, object_type, body)
        if _exists(ctx.portal, object_type, body["name"]):
            raise conflict(f"Property named '{body['name']}' already exists.")
        return _store_property(ctx, object_type, body), 201


def batch_create(ctx: Ctx, object_type: str):
    object_type = _type(ctx, object_type, write=True)
    inputs = _body(ctx).get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs is required")
    started = iso(ctx.sb.clock.now())
    with ctx.sb.store.lock:
        for item in inputs:
            _check_definition(ctx.portal, object_type, item if isinstance(item, dict) else {})
        results, errors = [], []
        for item in inputs:
            if _exists(ctx.portal, object_type, item["name"]):
                errors.append(
                    {
                        "status": "error",
                        "category": "OBJECT_ALREADY_EXISTS",
                        "message": f"Property named '{item['name']}' already exists.",
                        "context": {"name": [item["name"]]},
                        "errors": [],
                        "links": {},
                    }
                )
                continue
            results.append(_store_property(ctx, object_type, item))
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": iso(ctx.sb.clock.now()),
        }
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        return body, (207 if errors else 201)


def batch_read(ctx: Ctx, object_type: str):
    object_type = _type(ctx, object_type)
    inputs = _body(ctx).get("inputs") or []
    started = iso(ctx.sb.clock.now())
    with ctx.sb.store.lock:
        results = [
            ctx.portal.property_view(object_type, item.get("name"))
            for item in inputs
            if isinstance(item, dict) and _exists(ctx.portal, object_type, item.get("name", ""))
        ]
        return {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": iso(ctx.sb.clock.now()),
        }


def update(ctx: Ctx, object_type: str, name: str):
    object_type = _type(ctx, object_type, write=True)
    body = _body(ctx)
    with ctx.sb.store.lock:
        prop = ctx.portal.property(object_type, name)
        if prop is None or prop.get("archived"):
            raise not_found(f"Unable to find property {name}")
        if prop["hubspotDefined"] and set(body) - {
            "label",
            "description",
            "displayOrder",
            "options",
        }:
            raise validation_error(f"Only label, description and options of {name} can change")
        for key in ("label", "description", "displayOrder", "hidden", "groupName", "formField"):
            if key in body:
                prop[key] = body[key]
        if "options" in body:
            prop["options"] = [
                schema.option(o.get("value", ""), o.get("label", ""), i)
                for i, o in enumerate(body["options"] or [])
            ]
        prop["updatedAt"] = iso(ctx.sb.clock.now())
        return ctx.portal.property_view(object_type, name)


def archive(ctx: Ctx, object_type: str, name: str):
    object_type = _type(ctx, object_type, write=True)
    with ctx.sb.store.lock:
        prop = ctx.portal.property(object_type, name)
        if prop is None or prop.get("archived"):
            raise not_found(f"Unable to find property {name}")
        if prop["hubspotDefined"]:
            raise ApiError(
                400,
                error_body(
                    f"HubSpot-defined property {name} can't be archived", "VALIDATION_ERROR"
                ),
            )
        prop["archived"] = True
        prop["archivedAt"] = iso(ctx.sb.clock.now())
    return Response(status=204)


# -- groups -----------------------------------------------------------------------------------


def groups_all(ctx: Ctx, object_type: str):
    object_type = _type(ctx, object_type)
    with ctx.sb.store.lock:
        return {
            "results": [
                dict(g) for g in ctx.portal.groups[object_type].values() if not g["archived"]
            ]
        }


def group_get(ctx: Ctx, object_type: str, group: str):
    object_type = _type(ctx, object_type)
    with ctx.sb.store.lock:
        found = ctx.portal.groups[object_type].get(group)
        if found is None or found["archived"]:
            raise not_found(f"Unable to find property group {group}")
        return dict(found)


def group_create(ctx: Ctx, object_type: str):
    object_type = _type(ctx, object_type, write=True)
    body = _body(ctx)
    name, label = body.get("name"), body.get("label")
    if not isinstance(name, str) or not _NAME.match(name) or not label:
        raise validation_error("name (lower case letters, digits, _) and label are required")
    with ctx.sb.store.lock:
        groups = ctx.portal.groups[object_type]
        if name in groups and not groups[name]["archived"]:
            raise conflict(f"Property group named '{name}' already exists.")
        groups[name] = {
            "name": name,
            "label": label,
            "displayOrder": body.get("displayOrder", -1),
            "archived": False,
        }
        return dict(groups[name]), 201


def group_update(ctx: Ctx, object_type: str, group: str):
    object_type = _type(ctx, object_type, write=True)
    body = _body(ctx)
    with ctx.sb.store.lock:
        found = ctx.portal.groups[object_type].get(group)
        if found is None or found["archived"]:
            raise not_found(f"Unable to find property group {group}")
        for key in ("label", "displayOrder"):
            if key in body:
                found[key] = body[key]
        return dict(found)


def group_archive(ctx: Ctx, object_type: str, group: str):
    object_type = _type(ctx, object_type, write=True)
    with ctx.sb.store.lock:
        found = ctx.portal.groups[object_type].get(group)
        if found is None or found["archived"]:
            raise not_found(f"Unable to find property group {group}")
        found["archived"] = True
    return Response(status=204)


def routes() -> list[Route]:
    base = "/crm/v3/properties/<object_type>"
    return [
        Route(base, ["GET"], get_all),
        Route(base, ["POST"], create),
        Route(f"{base}/batch/create", ["POST"], batch_create),
        Route(f"{base}/batch/read", ["POST"], batch_read),
        Route(f"{base}/groups", ["GET"], groups_all),
        Route(f"{base}/groups", ["POST"], group_create),
        Route(f"{base}/groups/<group>", ["GET"], group_get),
        Route(f"{base}/groups/<group>", ["PATCH"], group_update),
        Route(f"{base}/groups/<group>", ["DELETE"], group_archive),
        Route(f"{base}/<name>", ["GET"], get_by_name),
        Route(f"{base}/<name>", ["PATCH"], update),
        Route(f"{base}/<name>", ["DELETE"], archive),
    ]
