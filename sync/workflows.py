"""Custom workflow actions: "Create Fortnox invoice" / "Create Fortnox order" on deals (product.md
§2), "Sync to Fortnox customer" on contacts and companies (§3).

HubSpot POSTs a signed execution request ({callbackId, origin.portalId, object.objectId, ...});
we queue a run and answer BLOCK; when the run ends, a delivery completes the callback with the
outcome (hubspot-api.md Addendum §4), retried until HubSpot takes it. A repeated request with the
same callbackId is the same trigger, so it gives no second document.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from integrations.models import HubSpotInstallation
from sync.deliveries import DeliverySpec, workflow_callback_spec
from sync.models import InboundRejection, Run, RunKind, SubjectType, SyncSettings
from sync.rejections import inbound_rejection_record
from sync.runs import run_create
from sync.selectors import sync_settings_get
from sync.serializers import WorkflowExecutionSerializer, errors_text, id_at

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkflowAction:
    """One custom action of the project (hubspot-app/src/app/workflow-actions/<name>-hsmeta.json):
    the kind of run it starts and the workflow object types it is declared for (its
    `objectTypes`, as HubSpot names them in the execution request's `object.objectType`)."""

    kind: str
    object_types: tuple[str, ...]


ACTIONS = {
    "create-invoice": WorkflowAction(RunKind.INVOICE, ("DEAL",)),
    "create-order": WorkflowAction(RunKind.ORDER, ("DEAL",)),
    "sync-deal-products": WorkflowAction(RunKind.PRODUCT_SYNC, ("DEAL",)),
}
# HubSpot's workflow object type → the CRM API's object type (the run's subject).
SUBJECT_TYPES = {
    "DEAL": SubjectType.DEAL,
    "CONTACT": SubjectType.CONTACT,
    "COMPANY": SubjectType.COMPANY,
}
KEY_PREFIX = "workflow:"
ERROR_OUTPUT_MAX_CHARS = 1000  # what we put in the fortnox_error output field


def workflow_action_start(action: str, payload: Any) -> dict[str, Any]:
    """The synchronous answer to HubSpot: BLOCK while the run works, or a failure at once.

    `payload` is the parsed body; an unusable request is answered FAIL_CONTINUE with the reason
    (shown in the workflow's history) and recorded as rejected, never a 4xx/5xx: HubSpot
    retries 5xx for up to three days and a 4xx would only say "failed"."""
    if action not in ACTIONS:
        return workflow_request_reject(f"unknown workflow action '{action}'", payload)
    serializer = WorkflowExecutionSerializer(data=payload)
    if not serializer.is_valid():
        return workflow_request_reject(errors_text(serializer.errors), payload)
    request = serializer.validated_data
    declared = ACTIONS[action]
    callback_id = request["callbackId"]
    hub_id = request["origin"]["portalId"]
    object_id = str(request["object"]["objectId"])
    object_type = request["object"].get("objectType", declared.object_types[0]).upper()
    installation = HubSpotInstallation.objects.filter(hub_id=hub_id).first()
    # The answer is shown in the portal's workflow history: in the portal's language.
    with translation.override(_language(installation)):
        if object_type not in declared.object_types:
            return _fail(_wrong_object_text(declared, object_type))
        if installation is None or not installation.is_active:
            return _fail(_("The Fortnox app is not installed in this portal."))
    run = run_create(
        installation,
        subject_type=SUBJECT_TYPES[object_type],
        subject_id=object_id,
        kind=declared.kind,
        trigger=Run.Trigger.WORKFLOW,
        trigger_key=f"{KEY_PREFIX}{callback_id}",
    )
    if run is None:  # HubSpot repeated the request: the run already under way will answer
        logger.info("workflow action repeated", extra={"portal": hub_id, "callback": callback_id})
    return {"outputFields": {"hs_execution_state": "BLOCK"}}


def _wrong_object_text(declared: WorkflowAction, object_type: str) -> str:
    if declared.object_types == ("DEAL",):
        return _("This action works on deals, not on %(object_type)ss.") % {
            "object_type": object_type.lower()
        }
    return _("This action works on contacts and companies, not on %(object_type)ss.") % {
        "object_type": object_type.lower()
    }


def workflow_request_reject(reason: str, received: bytes | Any) -> dict[str, Any]:
    """Record a signed but unusable execution request, and the answer that fails the action."""
    inbound_rejection_record(
        InboundRejection.Kind.WORKFLOW_ACTION,
        reason,
        received,
        hub_id=id_at(received, "origin", "portalId"),
    )
    return _fail(f"HubSpot's request could not be used: {reason}"[:ERROR_OUTPUT_MAX_CHARS])


def _language(installation: HubSpotInstallation | None) -> str:
    """The portal's language of notes (SyncSettings.language); English for a portal unknown."""
    if installation is None:
        return "en"
    sync_settings = sync_settings_get(installation)
    return sync_settings.language if sync_settings else SyncSettings.Language.SWEDISH


def _fail(message: str) -> dict[str, Any]:
    return {
        "outputFields": {
            "hs_execution_state": "FAIL_CONTINUE",
            "fortnox_status": "failed",
            "fortnox_error": message,
        }
    }


def workflow_callback_specs(run: Run) -> list[DeliverySpec]:
    """The completion of the workflow action that started the run, if one did: SUCCESS with the
    document number, or FAIL_CONTINUE with what went wrong and the fix."""
    if run.trigger != Run.Trigger.WORKFLOW or not run.trigger_key.startswith(KEY_PREFIX):
        return []
    succeeded = run.status == Run.Status.SUCCEEDED
    if run.kind == RunKind.CUSTOMER_SYNC:
        fields = {
            "hs_execution_state": "SUCCESS" if succeeded else "FAIL_CONTINUE",
            "fortnox_status": "synced" if succeeded else "failed",
            "fortnox_customer_number": run.fortnox_customer_number,
        }
    elif run.kind == RunKind.PRODUCT_SYNC:
        articles = (run.data_read or {}).get("outcome", {}).get("articles", [])
        fields = {
            "hs_execution_state": "SUCCESS" if succeeded else "FAIL_CONTINUE",
            "fortnox_status": "synced" if succeeded else "failed",
            "fortnox_article_numbers": ", ".join(a["number"] for a in articles if a.get("number")),
        }
    else:
        fields = {
            "hs_execution_state": "SUCCESS" if succeeded else "FAIL_CONTINUE",
            "fortnox_status": "created" if succeeded else "failed",
            "fortnox_document_number": run.fortnox_document_number,
        }
    if not succeeded:
        fields["fortnox_error"] = f"{run.error_message} {run.error_fix}".strip()[:1000]
    return [workflow_callback_spec(run.trigger_key[len(KEY_PREFIX) :], fields)]
