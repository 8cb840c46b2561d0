"""HTTP entry points of the sync: HubSpot's webhook deliveries and workflow actions, and the
Replay page that failure notes link to."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from integrations.hubspot.signature import SignatureInvalid, hubspot_request_verify
from notes.replay import ReplayLinkInvalid, replay_token_read
from sync.replay import run_replay
from sync.selectors import run_get_for_portal
from sync.webhooks import MalformedEvent, webhook_events_record
from sync.workflows import WorkflowRequestInvalid, workflow_action_start

logger = logging.getLogger(__name__)


@csrf_exempt  # authenticated by HubSpot's signature instead
@require_POST
def hubspot_webhooks(request: HttpRequest) -> HttpResponse:
    try:
        hubspot_request_verify(request)
    except SignatureInvalid as exc:
        logger.warning("webhook refused: %s", exc)
        return JsonResponse({"error": "invalid signature"}, status=401)
    try:
        webhook_events_record(json.loads(request.body))
    except (ValueError, MalformedEvent) as exc:
        # Signed by HubSpot but unreadable: retrying will not help, so say so and accept.
        logger.error("webhook delivery unreadable: %s", exc)
        return JsonResponse({"error": str(exc)}, status=400)
    return HttpResponse(status=204)


@csrf_exempt  # authenticated by HubSpot's signature instead
@require_POST
def hubspot_workflow_action(request: HttpRequest, action: str) -> HttpResponse:
    try:
        hubspot_request_verify(request)
    except SignatureInvalid as exc:
        logger.warning("workflow action refused: %s", exc)
        return JsonResponse({"error": "invalid signature"}, status=401)
    try:
        answer = workflow_action_start(action, json.loads(request.body))
    except (ValueError, WorkflowRequestInvalid) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(answer)


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
            {"refused": "This Replay link names a run that does not exist."},
            status=404,
        )
    context = {"run": run, "document_label": run.get_kind_display().lower()}
    if request.method == "POST":
        new_run, message = run_replay(run)
        context.update({"message": message, "new_run": new_run})
    return render(request, "sync/replay.html", context)
