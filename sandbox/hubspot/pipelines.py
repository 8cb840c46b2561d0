"""Pipelines v3 (/crm/v3/pipelines/{objectType}): the portal's deal pipelines and stages.
Stage `metadata` values are strings (isClosed, probability), as the SDK's model expects."""

from __future__ import annotations

from typing import Any

from sandbox.hubspot import schema
from sandbox.hubspot.http import not_found
from sandbox.hubspot.routing import Ctx, Route

CREATED = "2024-01-01T00:00:00.000Z"


def _stage(stage: dict[str, Any]) -> dict[str, Any]:
    return {**stage, "createdAt": CREATED, "updatedAt": CREATED}


def _pipeline(pipeline: dict[str, Any]) -> dict[str, Any]:
    return {
        **pipeline,
        "stages": [_stage(s) for s in pipeline["stages"]],
        "createdAt": CREATED,
        "updatedAt": CREATED,
    }


def _pipelines(ctx: Ctx, object_type: str) -> list[dict[str, Any]]:
    name = schema.object_type(object_type)
    ctx.require_scopes(
        f"crm.objects.{name}.read", f"crm.schemas.{name}.read", f"crm.objects.{name}.write"
    )
    return ctx.portal.pipelines if name == "deals" else []


def get_all(ctx: Ctx, object_type: str):
    with ctx.sb.store.lock:
        return {"results": [_pipeline(p) for p in _pipelines(ctx, object_type)]}


def _one(ctx: Ctx, object_type: str, pipeline_id: str) -> dict[str, Any]:
    for pipeline in _pipelines(ctx, object_type):
        if pipeline["id"] == pipeline_id:
            return pipeline
    raise not_found(f"Unable to find pipeline {pipeline_id}")


def get_by_id(ctx: Ctx, object_type: str, pipeline_id: str):
    with ctx.sb.store.lock:
        return _pipeline(_one(ctx, object_type, pipeline_id))


def stages(ctx: Ctx, object_type: str, pipeline_id: str):
    with ctx.sb.store.lock:
        return {"results": [_stage(s) for s in _one(ctx, object_type, pipeline_id)["stages"]]}


def stage(ctx: Ctx, object_type: str, pipeline_id: str, stage_id: str):
    with ctx.sb.store.lock:
        for item in _one(ctx, object_type, pipeline_id)["stages"]:
            if item["id"] == stage_id:
                return _stage(item)
    raise not_found(f"Unable to find stage {stage_id}")


def routes() -> list[Route]:
    base = "/crm/v3/pipelines/<object_type>"
    return [
        Route(base, ["GET"], get_all),
        Route(f"{base}/<pipeline_id>", ["GET"], get_by_id),
        Route(f"{base}/<pipeline_id>/stages", ["GET"], stages),
        Route(f"{base}/<pipeline_id>/stages/<stage_id>", ["GET"], stage),
    ]
