"""HTTP entry points of the sync: HubSpot's webhook deliveries."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.hubspot.signature import SignatureInvalid, hubspot_request_verify
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
