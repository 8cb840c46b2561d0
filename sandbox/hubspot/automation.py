"""Custom workflow actions (automation actions v4, hubspot-api.md §5): definitions per app, and
the callbacks that complete a BLOCKed execution.

Definitions are managed with the developer API key (?hapikey=, as the legacy v4 docs and the SDK's
definitions_api do) or a Bearer token with `automation`. A reset loads the project's
`workflow-actions/*-hsmeta.json` as definitions 5001, 5002, … (in file-name order), with
`${PUBLIC_BASE_URL}` in actionUrl resolved when an execution is sent (README.md).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from sandbox.hubspot.http import not_found, validation_error
from sandbox.hubspot.routing import Ctx, Route

if TYPE_CHECKING:
    from sandbox.hubspot.app import Sandbox


def _type_definition(raw: dict[str, Any]) -> dict[str, Any]:
    td = dict(raw)
    td.setdefault("externalOptions", False)
    td["options"] = [
        {
            "label": o.get("label", o.get("value", "")),
            "value": o.get("value", ""),
            "description": o.get("description", ""),
            "displayOrder": o.get("displayOrder", i),
            "doubleData": o.get("doubleData", 0),
            "hidden": o.get("hidden", False),
            "readOnly": o.get("readOnly", False),
        }
        for i, o in enumerate(td.get("options") or [])
    ]
    return td


def normalise(definition: dict[str, Any]) -> dict[str, Any]:
    """Fill the fields HubSpot always returns (the SDK's models require them)."""
    d = copy.deepcopy(definition)
    d["inputFields"] = [
        {
            **f,
            "typeDefinition": _type_definition(f.get("typeDefinition") or {}),
            "isRequired": bool(f.get("isRequired", False)),
            "supportedValueTypes": f.get("supportedValueTypes") or ["STATIC_VALUE"],
        }
        for f in d.get("inputFields") or []
    ]
    d["outputFields"] = [
        {**f, "typeDefinition": _type_definition(f.get("typeDefinition") or {})}
        for f in d.get("outputFields") or []
    ]
    d.setdefault("functions", [])
    d.setdefault("labels", {})
    d.setdefault("objectTypes", [])
    d.setdefault("published", False)
    d.setdefault("inputFieldDependencies", [])
    d.setdefault("executionRules", [])
    return d


def _new_definition(sb: Sandbox, body: dict[str, Any], uid: str | None = None) -> dict[str, Any]:
    store = sb.store
    definition_id = str(store.next_definition_id)
    store.next_definition_id += 1
    definition = normalise(body)
    definition.update({"id": definition_id, "revisionId": "1"})
    if uid:
        definition["uid"] = uid
    store.definitions[definition_id] = definition
    return definition


def load_project_definitions(sb: Sandbox) -> None:
    folder = Path(sb.store.app.get("workflow_actions_dir") or "")
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*-hsmeta.json")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        config = meta.get("config", {})
        if refused_object_types(config.get("objectTypes")):
            continue  # HubSpot would not offer it: no product-based workflows
        body = {
            "actionUrl": config.get("actionUrl", ""),
            "published": bool(config.get("isPublished", False)),
            "objectTypes": config.get("objectTypes", []),
            "inputFields": config.get("inputFields", []),
            "outputFields": config.get("outputFields", []),
            "labels": config.get("labels", {}),
        }
        if config.get("objectRequestOptions"):
            body["objectRequestOptions"] = config["objectRequestOptions"]
        _new_definition(sb, body, uid=meta.get("uid"))


def definition_for(sb: Sandbox, ref: str) -> dict[str, Any] | None:
    """A live definition by id or by its project uid."""
    definition = sb.store.definitions.get(str(ref))
    if definition is None:
        definition = next((d for d in sb.store.definitions.values() if d.get("uid") == ref), None)
    if definition is None or definition.get("archivedAt"):
        return None
    return definition


def _check_app(ctx: Ctx, app_id: int) -> None:
    if app_id != ctx.sb.store.app["app_id"]:
        raise not_found(f"App {app_id} not found")


def _view(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k != "uid"}


# Workflows exist for contacts, companies, deals, tickets, quotes and custom objects, not for
# products (README "Workflow actions"): an action definition or execution for PRODUCT is refused.
NO_WORKFLOWS = {"PRODUCT", "PRODUCTS", "0-7"}


def refused_object_types(object_types: Any) -> list[str]:
    return [str(t) for t in object_types or [] if str(t).upper() in NO_WORKFLOWS]


def _validate(body: Any, partial: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation_error("the body must be a JSON object")
    refused = refused_object_types(body.get("objectTypes"))
    if refused:
        raise validation_error(
            f"objectTypes {refused} have no workflows in HubSpot: choose CONTACT, COMPANY, "
            "DEAL, TICKET, QUOTE or a custom object"
        )
    if not partial or "actionUrl" in body:
        url = body.get("actionUrl")
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "${")):
            raise validation_error("actionUrl is required and must be a URL")
    return body


def create(ctx: Ctx, app_id: int):
    _check_app(ctx, app_id)
    body = _validate(ctx.json({}), partial=False)
    with ctx.sb.store.lock:
        return _view(_new_definition(ctx.sb, body)), 201


def get_page(ctx: Ctx, app_id: int):
    _check_app(ctx, app_id)
    archived = ctx.request.args.get("archived", "false").lower() == "true"
    with ctx.sb.store.lock:
        results = [
            _view(d)
            for d in ctx.sb.store.definitions.values()
            if bool(d.get("archivedAt")) == archived
        ]
    return {"results": results}


def _definition(ctx: Ctx, definition_id: str) -> dict[str, Any]:
    definition = ctx.sb.store.definitions.get(definition_id)
    if definition is None or definition.get("archivedAt"):
        raise not_found(f"Action definition {definition_id} not found")
    return definition


def get_by_id(ctx: Ctx, app_id: int, definition_id: str):
    _check_app(ctx, app_id)
    with ctx.sb.store.lock:
        return _view(_definition(ctx, definition_id))


def update(ctx: Ctx, app_id: int, definition_id: str):
    _check_app(ctx, app_id)
    body = _validate(ctx.json({}), partial=True)
    with ctx.sb.store.lock:
        definition = _definition(ctx, definition_id)
        merged = normalise({**definition, **body})
        merged["revisionId"] = str(int(definition["revisionId"]) + 1)
        definition.clear()
        definition.update(merged)
        return _view(definition)


def archive(ctx: Ctx, app_id: int, definition_id: str):
    _check_app(ctx, app_id)
    with ctx.sb.store.lock:
        definition = _definition(ctx, definition_id)
        definition["archivedAt"] = ctx.sb.clock.now_ms()
    return Response(status=204)


def complete(ctx: Ctx, callback_id: str):
    ctx.require_scopes("automation")
    body = ctx.json({}) or {}
    output = body.get("outputFields") if isinstance(body, dict) else None
    if not isinstance(output, dict):
        raise validation_error("outputFields is required")
    ctx.sb.delivery.workflows.complete(ctx.portal.hub_id, callback_id, output)
    return Response(status=204)


def complete_batch(ctx: Ctx):
    ctx.require_scopes("automation")
    body = ctx.json({}) or {}
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise validation_error("inputs is required")
    for item in inputs:
        if not isinstance(item, dict) or not isinstance(item.get("outputFields"), dict):
            raise validation_error("each input needs callbackId and outputFields")
    for item in inputs:
        ctx.sb.delivery.workflows.complete(
            ctx.portal.hub_id, str(item.get("callbackId")), item["outputFields"]
        )
    return Response(status=204)


def routes() -> list[Route]:
    base = "/automation/v4/actions"
    return [
        Route(f"{base}/callbacks/complete", ["POST"], complete_batch, "api"),
        Route(f"{base}/callbacks/<callback_id>/complete", ["POST"], complete, "api"),
        Route(f"{base}/<int:app_id>", ["POST"], create, "hapikey"),
        Route(f"{base}/<int:app_id>", ["GET"], get_page, "hapikey"),
        Route(f"{base}/<int:app_id>/<definition_id>", ["GET"], get_by_id, "hapikey"),
        Route(f"{base}/<int:app_id>/<definition_id>", ["PATCH"], update, "hapikey"),
        Route(f"{base}/<int:app_id>/<definition_id>", ["DELETE"], archive, "hapikey"),
    ]
