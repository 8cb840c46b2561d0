"""The Runs tab: the portal's recent runs (status, trigger, deal, document, error and fix),
filtered by status and paged; a run's detail with its steps and reconciliation; Replay from
there (sync/replay.py's service, as the Replay link of a failure note)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portals.access import edit_required, settings_page
from portals.tabs import settings_render
from sync.links import deal_link, fortnox_document_link, hubspot_ui_domain
from sync.models import Run
from sync.replay import run_replay
from sync.selectors import (
    run_deal_names,
    run_document_elsewhere,
    run_get_for_portal,
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
}
KIND_LABELS = {"invoice": gettext_lazy("Invoice"), "order": gettext_lazy("Order")}


def _row(run: Run, deal_names: dict[int, str], ui_domain: str) -> dict:
    installation = run.installation
    return {
        "run": run,
        "status_label": STATUS_LABELS.get(run.status, run.status),
        "trigger_label": TRIGGER_LABELS.get(run.trigger, run.trigger),
        "kind_label": KIND_LABELS.get(run.kind, run.kind),
        "deal_name": deal_names.get(run.pk, ""),
        "deal_url": deal_link(installation, run.subject_id, ui_domain),
        "document_url": fortnox_document_link(installation, run.kind, run.fortnox_document_number),
    }


@never_cache
@require_GET
@settings_page
def runs_list(request: HttpRequest, hub_id: int) -> HttpResponse:
    installation = request.installation
    status = request.GET.get("status", "")
    if status not in Run.Status.values:
        status = ""
    page = Paginator(runs_for_portal(installation, status), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    runs = list(page.object_list)
    for run in runs:
        run.installation = installation  # one installation for every row, not one query each
    ui_domain = hubspot_ui_domain(installation) if runs else ""
    deal_names = run_deal_names(runs)
    return settings_render(
        request,
        "runs",
        "portals/settings/runs.html",
        {
            "rows": [_row(run, deal_names, ui_domain) for run in runs],
            "page": page,
            "status": status,
            "statuses": [(value, STATUS_LABELS[value]) for value in Run.Status.values],
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
    row = _row(run, run_deal_names([run]), ui_domain)
    elsewhere, replay_creates_nothing = run_document_elsewhere(run)
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
