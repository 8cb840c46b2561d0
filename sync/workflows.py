"""Custom workflow actions "Create Fortnox invoice" / "Create Fortnox order" (product.md §2).

HubSpot POSTs a signed execution request ({callbackId, origin.portalId, object.objectId, ...});
we queue a run and answer BLOCK, then complete the callback with the outcome when the run ends
(hubspot-api.md Addendum §4). A repeated request with the same callbackId is the same trigger,
so it gives no second document.
"""

from __future__ import annotations

import logging
from typing import Any

from integrations.errors import IntegrationError
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import workflow_callback_complete
from integrations.models import HubSpotInstallation
from sync.models import Run, RunKind, SubjectType
from sync.runs import run_create

logger = logging.getLogger(__name__)

ACTIONS = {"create-invoice": RunKind.INVOICE, "create-order": RunKind.ORDER}
KEY_PREFIX = "workflow:"


class WorkflowRequestInvalid(ValueError):
    pass


def workflow_action_start(action: str, payload: Any) -> dict[str, Any]:
    """The synchronous answer to HubSpot: BLOCK while the run works, or a failure at once."""
    if action not in ACTIONS:
        raise WorkflowRequestInvalid(f"unknown workflow action '{action}'")
    try:
        callback_id = str(payload["callbackId"])
        hub_id = int(payload["origin"]["portalId"])
        deal_id = str(payload["object"]["objectId"])
        object_type = str(payload["object"].get("objectType", "DEAL")).upper()
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkflowRequestInvalid(f"the request lacks {exc}") from None
    if object_type != "DEAL":
        return _fail(f"This action works on deals, not on {object_type.lower()}s.")
    installation = HubSpotInstallation.objects.filter(hub_id=hub_id).first()
    if installation is None or not installation.is_active:
        return _fail("The Fortnox app is not installed in this portal.")
    run = run_create(
        installation,
        subject_type=SubjectType.DEAL,
        subject_id=deal_id,
        kind=ACTIONS[action],
        trigger=Run.Trigger.WORKFLOW,
        trigger_key=f"{KEY_PREFIX}{callback_id}",
    )
    if run is None:  # HubSpot repeated the request: the run already under way will answer
        logger.info("workflow action repeated", extra={"portal": hub_id, "callback": callback_id})
    return {"outputFields": {"hs_execution_state": "BLOCK"}}


def _fail(message: str) -> dict[str, Any]:
    return {
        "outputFields": {
            "hs_execution_state": "FAIL_CONTINUE",
            "fortnox_status": "failed",
            "fortnox_error": message,
        }
    }


def workflow_run_finished(run: Run) -> None:
    """Tell the waiting workflow how its run ended (only for runs a workflow started)."""
    if run.trigger != Run.Trigger.WORKFLOW or not run.trigger_key.startswith(KEY_PREFIX):
        return
    if not run.installation.is_active:
        return
    succeeded = run.status == Run.Status.SUCCEEDED
    fields = {
        "hs_execution_state": "SUCCESS" if succeeded else "FAIL_CONTINUE",
        "fortnox_status": "created" if succeeded else "failed",
        "fortnox_document_number": run.fortnox_document_number,
    }
    if not succeeded:
        fields["fortnox_error"] = f"{run.error_message} {run.error_fix}".strip()[:1000]
    try:
        workflow_callback_complete(
            HubSpotClient(run.installation), run.trigger_key[len(KEY_PREFIX) :], fields
        )
    except IntegrationError as exc:
        logger.error("workflow callback not completed", extra={"run": run.pk, "why": str(exc)})
