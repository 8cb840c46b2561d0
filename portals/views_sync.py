"""The Invoices & orders tab: the portal's deal pipelines and stages, read live from HubSpot;
which are added, with which trigger stages and document; automatic creation on or off."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from integrations.errors import IntegrationError
from portals.access import edit_required, settings_page
from portals.forms_sync import AutoCreateForm, PipelineForm
from portals.selectors import deal_pipelines_read
from portals.services_sync import (
    auto_create_set,
    document_type_label,
    pipeline_setting_remove,
    pipeline_setting_save,
)
from portals.tabs import settings_render
from sync.models import PipelineSetting, SyncSettings


def _added(installation) -> dict[str, PipelineSetting]:
    return {
        p.pipeline_id: p
        for p in PipelineSetting.objects.filter(settings__installation=installation)
    }


def _pipeline_form(request: HttpRequest, pipeline: dict[str, Any], setting) -> PipelineForm:
    initial = {
        "trigger_stage_ids": setting.trigger_stage_ids if setting else [],
        "document_type": setting.document_type if setting else "invoice",
    }
    form = PipelineForm(pipeline=pipeline, initial=initial)
    if not request.access.can_edit:
        form.disable_all()
    return form


def _render(
    request: HttpRequest,
    *,
    bound: PipelineForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The tab; `bound` is a pipeline form that was refused, shown with its errors."""
    installation = request.installation
    added = _added(installation)
    try:
        pipelines = deal_pipelines_read(installation)
        problem = None
    except IntegrationError as exc:
        pipelines, problem = [], exc
    rows = []
    for pipeline in pipelines:
        setting = added.pop(pipeline["id"], None)
        form = bound if bound and bound.pipeline["id"] == pipeline["id"] else None
        stage_labels = {s["id"]: s["label"] for s in pipeline["stages"]}
        rows.append(
            {
                "pipeline": pipeline,
                "setting": setting,
                "form": form or _pipeline_form(request, pipeline, setting),
                "stage_labels": [
                    stage_labels.get(i, i) for i in (setting.trigger_stage_ids if setting else [])
                ],
                "document": document_type_label(setting.document_type) if setting else "",
            }
        )
    sync_settings = SyncSettings.objects.filter(installation=installation).first()
    auto_form = AutoCreateForm(
        initial={"auto_create": sync_settings.auto_create if sync_settings else True}
    )
    if not request.access.can_edit:
        auto_form.disable_all()
    return settings_render(
        request,
        "sync",
        "portals/settings/sync.html",
        {
            "auto_form": auto_form,
            "rows": rows,
            # Added pipelines HubSpot no longer has (deleted there), shown so they can be removed;
            # only when HubSpot answered, else every added pipeline would look deleted.
            "gone": list(added.values()) if problem is None else [],
            "hubspot_problem": problem,
            # Without HubSpot's answer, the added pipelines as stored (no stage labels).
            "stored": [
                {"setting": s, "document": document_type_label(s.document_type)}
                for s in added.values()
            ]
            if problem is not None
            else [],
        },
        status=status,
    )


@never_cache
@require_GET
@settings_page
def sync_tab(request: HttpRequest, hub_id: int) -> HttpResponse:
    return _render(request)


@never_cache
@require_POST
@settings_page
@edit_required
def auto_create_save(request: HttpRequest, hub_id: int) -> HttpResponse:
    form = AutoCreateForm(request.POST)
    form.is_valid()  # a single optional checkbox: always valid
    enabled = form.cleaned_data["auto_create"]
    auto_create_set(request.installation, request.access, enabled)
    messages.success(
        request,
        _("Saved: documents are created automatically.")
        if enabled
        else _("Saved: automatic creation is off. Moving deals creates nothing."),
    )
    return redirect("settings-sync", hub_id=hub_id)


def _live_pipeline(request: HttpRequest, pipeline_id: str) -> dict[str, Any] | None:
    for pipeline in deal_pipelines_read(request.installation):
        if pipeline["id"] == pipeline_id:
            return pipeline
    return None


@never_cache
@require_POST
@settings_page
@edit_required
def pipeline_save(request: HttpRequest, hub_id: int, pipeline_id: str) -> HttpResponse:
    try:
        pipeline = _live_pipeline(request, pipeline_id)
    except IntegrationError as exc:
        messages.error(
            request,
            _("Nothing was saved: HubSpot's pipelines could not be read. %(message)s %(fix)s")
            % {"message": exc.message, "fix": exc.fix},
        )
        return redirect("settings-sync", hub_id=hub_id)
    if pipeline is None:
        messages.error(
            request,
            _("Nothing was saved: HubSpot has no deal pipeline %(pipeline)s. Reload the page.")
            % {"pipeline": pipeline_id},
        )
        return redirect("settings-sync", hub_id=hub_id)
    form = PipelineForm(request.POST, pipeline=pipeline)
    if not form.is_valid():
        return _render(request, bound=form, status=400)
    try:
        setting = pipeline_setting_save(
            request.installation,
            request.access,
            pipeline,
            form.cleaned_data["trigger_stage_ids"],
            form.cleaned_data["document_type"],
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field, error)
        return _render(request, bound=form, status=400)
    stage_labels = {s["id"]: s["label"] for s in pipeline["stages"]}
    messages.success(
        request,
        _("Saved: a deal in %(pipeline)s that enters %(stages)s creates a draft %(document)s.")
        % {
            "pipeline": pipeline["label"],
            "stages": ", ".join(stage_labels[i] for i in setting.trigger_stage_ids),
            "document": document_type_label(setting.document_type).lower(),
        },
    )
    return redirect("settings-sync", hub_id=hub_id)


@never_cache
@require_POST
@settings_page
@edit_required
def pipeline_remove(request: HttpRequest, hub_id: int, pipeline_id: str) -> HttpResponse:
    try:
        pipeline = _live_pipeline(request, pipeline_id)
    except IntegrationError:
        pipeline = None  # removing needs nothing from HubSpot; the labels are only for history
    removed = pipeline_setting_remove(request.installation, request.access, pipeline_id, pipeline)
    if removed:
        messages.success(
            request,
            _("Removed: deals in %(pipeline)s no longer create documents.") % {"pipeline": removed},
        )
    return redirect("settings-sync", hub_id=hub_id)
