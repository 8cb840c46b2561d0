"""The Runs tab: the portal's recent runs (status, trigger, HubSpot record, what was done in
Fortnox, error and fix), filtered by status and kind and paged: deal runs with their document,
customer and product syncs with what they did; a run's detail with its steps and reconciliation;
Replay from there (sync/replay.py's service, as the Replay link of a failure note)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portals.access import edit_required, settings_page
from portals.tabs import settings_render
from sync.links import fortnox_document_link, hubspot_ui_domain, record_link
from sync.models import SYNC_KINDS, Run, RunKind, SubjectType
from sync.replay import run_replay
from sync.run_words import KIND_LABELS, record_label, sync_result, the_record
from sync.selectors import (
    run_document_elsewhere,
    run_get_for_portal,
    run_record_names,
    runs_for_portal,
)

RUNS_PER_PAGE = 25

# The words the tab shows for a run's status and trigger (the model's labels are English).
STATUS_LABELS = {
    Run.Status.QUEUED: gettext_lazy("Queued"),
    Run.Status.RUNNING: gettext_lazy("Running"),
    Run.Status.SUCCEEDED: gettext_lazy("Succeeded"),
    Run.Status.FAILED: gettext_lazy("Failed"),
    Run.Status.SKIPPED: gettext_lazy("Skipped"),
}
TRIGGER_LABELS = {
    Run.Trigger.STAGE: gettext_lazy("Deal stage"),
    Run.Trigger.WORKFLOW: gettext_lazy("Workflow action"),
    Run.Trigger.REPLAY: gettext_lazy("Replay"),
    Run.Trigger.MANUAL: gettext_lazy("Manual"),
    Run.Trigger.CHANGE: gettext_lazy("Record change"),
    Run.Trigger.BULK: gettext_lazy("Bulk sync"),
    Run.Trigger.CARD: gettext_lazy("App card"),
}
# The kind filter, in the order a user thinks of them: documents first.
KIND_FILTER = [RunKind.INVOICE, RunKind.ORDER, RunKind.CUSTOMER_SYNC, RunKind.PRODUCT_SYNC]


def _row(run: Run, record_names: dict[int, str], ui_domain: str) -> dict:
    installation = run.installation
    is_sync = run.kind in SYNC_KINDS
    return {
        "run": run,
        "is_sync": is_sync,
        "status_label": STATUS_LABELS.get(run.status, run.status),
        "trigger_label": TRIGGER_LABELS.get(run.trigger, run.trigger),
        "kind_label": KIND_LABELS.get(run.kind, run.kind),
        # A deal run's record is its deal, shown by its name alone; a sync says what it synced.
        "record_label": record_label(run)
        if is_sync or run.subject_type != SubjectType.DEAL
        else "",
        "the_record": the_record(run),
        "record_name": record_names.get(run.pk, ""),
        "record_url": record_link(installation, run.subject_type, run.subject_id, ui_domain),
        "document_url": ""
        if is_sync
        else fortnox_document_link(installation, run.kind, run.fortnox_document_number),
        "sync_result": sync_result(run),
    }


@never_cache
@require_GET
@settings_page
def runs_list(request: HttpRequest, hub_id: int) -> HttpResponse:
    installation = request.installation
    status = request.GET.get("status", "")
    if status not in Run.Status.values:
        status = ""
    kind = request.GET.get("kind", "")
    if kind not in RunKind.values:
        kind = ""
    page = Paginator(runs_for_portal(installation, status, kind), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    runs = list(page.object_list)
    for run in runs:
        run.installation = installation  # one installation for every row, not one query each
    ui_domain = hubspot_ui_domain(installation) if runs else ""
    record_names = run_record_names(runs)
    filters = urlencode({k: v for k, v in (("status", status), ("kind", kind)) if v})
    return settings_render(
        request,
        "runs",
        "portals/settings/runs.html",
        {
            "rows": [_row(run, record_names, ui_domain) for run in runs],
            "page": page,
            "status": status,
            "statuses": [(value, STATUS_LABELS[value]) for value in Run.Status.values],
            "kind": kind,
            "kinds": [(value, KIND_LABELS[value]) for value in KIND_FILTER],
            # The filters a page link keeps ("status=failed&kind=customer_sync&").
            "filter_query": f"{filters}&" if filters else "",
        },
    )


def _run_or_404(hub_id: int, run_id: int) -> Run:
    run = run_get_for_portal(hub_id, run_id)
    if run is None:
        raise Http404(_("This portal has no run %(run)s.") % {"run": run_id})
    return run


@never_cache
@require_GET
@settings_page
def run_detail(request: HttpRequest, hub_id: int, run_id: int) -> HttpResponse:
    run = _run_or_404(hub_id, run_id)
    ui_domain = hubspot_ui_domain(request.installation)
    row = _row(run, run_record_names([run]), ui_domain)
    elsewhere, replay_creates_nothing = run_document_elsewhere(run)
    if run.kind in SYNC_KINDS and not replay_creates_nothing:
        elsewhere = None  # a sync never makes a second customer: only its own trigger matters
    return settings_render(
        request,
        "runs",
        "portals/settings/run.html",
        {
            **row,
            "steps": list(run.steps.all()),
            "differences": run.reconciliation_differences or [],
            "elsewhere": elsewhere,
            "elsewhere_kind": KIND_LABELS.get(elsewhere.kind, "") if elsewhere else "",
            "replay_creates_nothing": replay_creates_nothing,
            "can_replay": run.status == Run.Status.FAILED,
        },
    )


@never_cache
@require_POST
@settings_page
@edit_required
def run_replay_view(request: HttpRequest, hub_id: int, run_id: int) -> HttpResponse:
    run = _run_or_404(hub_id, run_id)
    new_run, message = run_replay(run)
    if new_run is None:
        messages.info(request, message)
        return redirect(reverse("settings-run", kwargs={"hub_id": hub_id, "run_id": run.pk}))
    messages.success(request, message)
    return redirect(reverse("settings-run", kwargs={"hub_id": hub_id, "run_id": new_run.pk}))
