"""HTTP entry points of the sync: HubSpot's webhook deliveries and workflow actions, and the
Replay page that failure notes link to.

What the HubSpot receivers answer (README, "Endpoints"): 413 for a body over the endpoint's limit
(not read), 401 for a missing or bad signature or timestamp (nothing recorded), else 2xx. HubSpot
retries any other answer to a webhook for up to a day (hubspot-api.md §3.1), which cannot mend a
signed but unusable delivery, so those are answered 2xx and recorded as rejected with the reason.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from integrations.hubspot.signature import (
    BodyTooLarge,
    SignatureInvalid,
    hubspot_request_verify,
    request_body_read,
)
from notes.replay import ReplayLinkInvalid, replay_token_read
from sync.links import record_link
from sync.models import SYNC_KINDS
from sync.replay import run_replay
from sync.run_words import kind_label, record_label, record_word, the_record
from sync.selectors import run_document_elsewhere, run_get_for_portal, run_record_names
from sync.serializers import UnusableBody, strict_json_loads
from sync.webhooks import webhook_delivery_record
from sync.workflows import workflow_action_start, workflow_request_reject

logger = logging.getLogger(__name__)

# How the Replay page names a run's outcome.
STATUS_WORDS = {
    "queued": gettext_lazy("queued"),
    "running": gettext_lazy("running"),
    "succeeded": gettext_lazy("succeeded"),
    "failed": gettext_lazy("failed"),
    "skipped": gettext_lazy("skipped"),
}

# A delivery is at most 100 events and a text property value at most 65,536 characters
# (sync/serializers.py), and we subscribe to text properties (product description), so a
# legitimate delivery can reach about 6.6 MB; nothing HubSpot sends us is larger.
WEBHOOK_BODY_MAX_BYTES = 8 * 1024 * 1024
# An execution request carries ids, context and the object's requested properties; our
# actions request none (hubspot-app/src/app/workflow-actions/).
WORKFLOW_BODY_MAX_BYTES = 256 * 1024


def _signed_body(request: HttpRequest, max_bytes: int) -> bytes | HttpResponse:
    """The body HubSpot signed, or the refusal to answer with."""
    try:
        body = request_body_read(request, max_bytes=max_bytes)
    except BodyTooLarge as exc:
        logger.error("HubSpot request refused: %s", exc, extra={"path": request.path})
        return JsonResponse({"error": str(exc)}, status=413)
    try:
        hubspot_request_verify(request, body=body)
    except SignatureInvalid as exc:
        logger.warning("HubSpot request refused: %s", exc, extra={"path": request.path})
        return JsonResponse({"error": "invalid signature"}, status=401)
    return body


@csrf_exempt  # authenticated by HubSpot's signature instead
@require_POST
def hubspot_webhooks(request: HttpRequest) -> HttpResponse:
    body = _signed_body(request, WEBHOOK_BODY_MAX_BYTES)
    if isinstance(body, HttpResponse):
        return body
    outcome = webhook_delivery_record(body)
    if outcome.rejected:  # 2xx all the same: a retry would be rejected again
        return JsonResponse({"rejected": outcome.rejected})
    return HttpResponse(status=204)


@csrf_exempt  # authenticated by HubSpot's signature instead
@require_POST
def hubspot_workflow_action(request: HttpRequest, action: str) -> HttpResponse:
    body = _signed_body(request, WORKFLOW_BODY_MAX_BYTES)
    if isinstance(body, HttpResponse):
        return body
    try:
        payload = strict_json_loads(body)
    except UnusableBody as exc:
        return JsonResponse(workflow_request_reject(str(exc), body))
    return JsonResponse(workflow_action_start(action, payload))


def _document_word(kind: str) -> str:
    return _("invoice") if kind == "invoice" else _("order")


@never_cache  # a signed link and a run's details: never kept by a browser or proxy cache
@require_http_methods(["GET", "POST"])
def replay(request: HttpRequest, token: str) -> HttpResponse:
    """A link in a failure note. GET shows what will happen; POST runs it again."""
    try:
        hub_id, run_id = replay_token_read(token)
    except ReplayLinkInvalid as exc:
        return render(request, "sync/replay.html", {"refused": str(exc)}, status=403)
    run = run_get_for_portal(hub_id, run_id)
    if run is None:
        return render(
            request,
            "sync/replay.html",
            {"refused": _("This Replay link names a run that does not exist.")},
            status=404,
        )
    elsewhere, replay_creates_nothing = run_document_elsewhere(run)
    is_sync = run.kind in SYNC_KINDS
    if is_sync and not replay_creates_nothing:
        # A later sync of another trigger matters not: a sync never makes a second customer.
        elsewhere = None
    context = {
        "run": run,
        "is_sync": is_sync,
        "document_label": _document_word(run.kind),
        "kind_label": kind_label(run),
        "record_label": record_label(run),
        "record_word": record_word(run),
        "the_record": the_record(run),
        "status_label": STATUS_WORDS.get(run.status, run.status),
        "record_name": run_record_names([run]).get(run.pk, ""),
        # One account-details call at most, cached for a day (sync/links.py).
        "record_url": record_link(run.installation, run.subject_type, run.subject_id),
        "elsewhere": elsewhere,
        "elsewhere_label": _document_word(elsewhere.kind) if elsewhere else "",
        "replay_creates_nothing": replay_creates_nothing,
    }
    if request.method == "POST":
        new_run, message = run_replay(run)
        context.update({"message": message, "new_run": new_run})
    return render(request, "sync/replay.html", context)
