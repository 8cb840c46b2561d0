"""The Bulk sync tab: "Sync companies now" / "Sync products now" for a chosen scope, counted
first and confirmed, then its progress (refreshing by itself) and a cancel button
(sync/bulk.py does the work). Editors start and cancel; read-only users see the progress."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from integrations.errors import IntegrationError
from integrations.hubspot.lists import lists_scope_granted
from portals.access import edit_required, settings_page
from portals.history import settings_changes_record
from portals.tabs import settings_render
from sync.bulk import (
    BulkRefused,
    bulk_lifecycle_stages,
    bulk_lists,
    bulk_object_types,
    bulk_pipelines,
    bulk_progress,
    bulk_sync_cancel,
    bulk_sync_confirm,
    bulk_sync_count_start,
    bulk_sync_latest,
)
from sync.models import BulkSync

SECTION = "Bulk sync"
REFRESH_MS = 2000

OBJECT_LABELS = {
    BulkSync.ObjectType.COMPANIES: pgettext_lazy("bulk sync", "Companies"),
    BulkSync.ObjectType.PRODUCTS: pgettext_lazy("bulk sync", "Products"),
}
SCOPE_LABELS = {
    BulkSync.Scope.PIPELINE_DEALS: gettext_lazy(
        "Companies with a deal in a pipeline added to the sync"
    ),
    BulkSync.Scope.LIST: gettext_lazy("The companies of a HubSpot list"),
    BulkSync.Scope.LIFECYCLE_STAGE: gettext_lazy("The companies at a lifecycle stage"),
    BulkSync.Scope.ALL: gettext_lazy("All products"),
}
STATUS_LABELS = {
    BulkSync.Status.COUNTING: gettext_lazy("Counting…"),
    BulkSync.Status.COUNTED: gettext_lazy("Counted: waiting for your confirmation"),
    BulkSync.Status.RUNNING: gettext_lazy("Running"),
    BulkSync.Status.DONE: gettext_lazy("Done"),
    BulkSync.Status.CANCELLED: gettext_lazy("Cancelled"),
    BulkSync.Status.FAILED: gettext_lazy("Stopped"),
}


class CountForm(forms.Form):
    object_type = forms.ChoiceField(choices=BulkSync.ObjectType.choices)
    scope = forms.ChoiceField(choices=BulkSync.Scope.choices)
    list_id = forms.CharField(required=False, max_length=200)
    lifecycle_stage = forms.CharField(required=False, max_length=200)


def _count_message(object_type: str, count: int) -> str:
    if object_type == BulkSync.ObjectType.PRODUCTS:
        return ngettext(
            "%(count)s product will be synced.", "%(count)s products will be synced.", count
        ) % {"count": count}
    return ngettext(
        "%(count)s company will be synced.", "%(count)s companies will be synced.", count
    ) % {"count": count}


def _confirm_label(object_type: str, count: int) -> str:
    if object_type == BulkSync.ObjectType.PRODUCTS:
        return ngettext("Sync %(count)s product now", "Sync %(count)s products now", count) % {
            "count": count
        }
    return ngettext("Sync %(count)s company now", "Sync %(count)s companies now", count) % {
        "count": count
    }


def _bulk_view(request: HttpRequest, bulk: BulkSync | None) -> dict | None:
    if bulk is None:
        return None
    hub_id = request.installation.hub_id
    # Progress once confirmed: a count discarded before it has none.
    progress = bulk_progress(bulk) if bulk.confirmed_at else None
    return {
        "bulk": bulk,
        "status_label": STATUS_LABELS.get(bulk.status, bulk.status),
        "scope_text": _scope_text(bulk),
        "count_message": _count_message(bulk.object_type, bulk.total or 0)
        if bulk.total is not None
        else "",
        "confirm_label": _confirm_label(bulk.object_type, bulk.total or 0),
        "progress": progress,
        "live": bulk.status == BulkSync.Status.COUNTING
        or (bulk.status == BulkSync.Status.RUNNING and not (progress and progress.finished)),
        "progress_url": reverse("settings-bulk-progress", args=[hub_id, bulk.pk]),
        "confirm_url": reverse("settings-bulk-confirm", args=[hub_id, bulk.pk]),
        "cancel_url": reverse("settings-bulk-cancel", args=[hub_id, bulk.pk]),
        "failures": [
            {
                "failure": failure,
                "url": reverse("settings-run", args=[hub_id, failure.run_id]),
            }
            for failure in (progress.failures if progress else [])
        ],
    }


def _scope_text(bulk: BulkSync) -> str:
    label = str(SCOPE_LABELS.get(bulk.scope, bulk.scope))
    detail = bulk.scope_label or bulk.scope_value
    return f"{label}: {detail}" if detail else label


def _choices(request: HttpRequest) -> dict:
    """What the scope form offers: the pipelines, the portal's company lists (when the app may
    read them) and its lifecycle stages; HubSpot not answering is said, not a 500."""
    installation = request.installation
    problems: list[str] = []
    lists, stages = [], []
    try:
        stages = bulk_lifecycle_stages(installation)
        lists = bulk_lists(installation) or []
    except IntegrationError as exc:
        problems.append(f"{exc.message} {exc.fix}")
    return {
        "pipelines": bulk_pipelines(installation),
        "lists": lists,
        "lists_allowed": lists_scope_granted(installation),
        "stages": stages,
        "choice_problems": problems,
    }


@never_cache
@require_GET
@settings_page
def bulk_tab(request: HttpRequest, hub_id: int) -> HttpResponse:
    installation = request.installation
    sections = [
        {
            "object_type": object_type,
            "label": OBJECT_LABELS[object_type],
            "current": _bulk_view(request, bulk_sync_latest(installation, object_type)),
        }
        for object_type in bulk_object_types()
    ]
    return settings_render(
        request,
        "bulk",
        "portals/settings/bulk.html",
        {
            "sections": sections,
            "refresh_ms": REFRESH_MS,
            "reauthorise_url": reverse("hubspot-install"),
            **(_choices(request) if request.access.can_edit else {}),
        },
    )


def _scope_label(request: HttpRequest, scope: str, value: str) -> str:
    if scope == BulkSync.Scope.PIPELINE_DEALS:
        return ", ".join(
            p.pipeline_label or p.pipeline_id for p in bulk_pipelines(request.installation)
        )
    return ""


@never_cache
@require_POST
@settings_page
@edit_required
def bulk_count(request: HttpRequest, hub_id: int) -> HttpResponse:
    form = CountForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what to sync, then press Count."))
        return redirect("settings-bulk", hub_id=hub_id)
    data = form.cleaned_data
    scope = data["scope"]
    value = {
        BulkSync.Scope.LIST: data["list_id"],
        BulkSync.Scope.LIFECYCLE_STAGE: data["lifecycle_stage"],
    }.get(scope, "")
    try:
        bulk_sync_count_start(
            request.installation,
            object_type=data["object_type"],
            scope=scope,
            scope_value=value,
            scope_label=_scope_label(request, scope, value),
            started_by=request.access.actor,
        )
    except BulkRefused as refusal:
        messages.error(request, f"{refusal.message} {refusal.fix}")
    return redirect("settings-bulk", hub_id=hub_id)


def _bulk_for(request: HttpRequest, bulk_id: int) -> BulkSync:
    bulk = BulkSync.objects.filter(pk=bulk_id, installation=request.installation).first()
    if bulk is None:
        raise Http404("No such bulk sync")
    return bulk


@never_cache
@require_POST
@settings_page
@edit_required
def bulk_confirm(request: HttpRequest, hub_id: int, bulk_id: int) -> HttpResponse:
    bulk = _bulk_for(request, bulk_id)
    try:
        bulk = bulk_sync_confirm(bulk)
    except BulkRefused as refusal:
        messages.error(request, f"{refusal.message} {refusal.fix}")
        return redirect("settings-bulk", hub_id=hub_id)
    settings_changes_record(
        request.installation,
        request.access,
        SECTION,
        [(f"{OBJECT_LABELS[bulk.object_type]}: {_scope_text(bulk)}", "—", _("started"))],
        even_unchanged=True,
    )
    messages.success(request, _("The bulk sync has started."))
    return redirect("settings-bulk", hub_id=hub_id)


@never_cache
@require_POST
@settings_page
@edit_required
def bulk_cancel(request: HttpRequest, hub_id: int, bulk_id: int) -> HttpResponse:
    bulk = _bulk_for(request, bulk_id)
    was_running = bulk.status == BulkSync.Status.RUNNING
    bulk = bulk_sync_cancel(bulk)
    if was_running:
        settings_changes_record(
            request.installation,
            request.access,
            SECTION,
            [
                (
                    f"{OBJECT_LABELS[bulk.object_type]}: {_scope_text(bulk)}",
                    _("running"),
                    _("cancelled"),
                )
            ],
        )
    messages.success(request, _("The bulk sync was cancelled."))
    return redirect("settings-bulk", hub_id=hub_id)


@never_cache
@require_GET
@settings_page
def bulk_progress_json(request: HttpRequest, hub_id: int, bulk_id: int) -> JsonResponse:
    """What the tab's script polls while a count or a sync runs."""
    bulk = _bulk_for(request, bulk_id)
    progress = bulk_progress(bulk)
    return JsonResponse(
        {
            "status": bulk.status,
            "status_label": str(STATUS_LABELS.get(bulk.status, bulk.status)),
            **progress.as_dict(),
            "error": bulk.error,
        }
    )
