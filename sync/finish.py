"""Ending a run: succeeded or failed, and telling the user and the workflow that started it."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from integrations.calls import CallRecord
from integrations.errors import IntegrationError
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import record_update
from notes.services import deal_note_failure
from sync.models import Run
from sync.workflows import workflow_run_finished

logger = logging.getLogger(__name__)


def run_observer(run: Run):
    """Records each HTTP call the adapters make for the run as one of its steps."""

    def record(call: CallRecord) -> None:
        run.steps.create(
            kind="call",
            attempt=run.attempts,
            service=call.service,
            method=call.method,
            path=call.path[:300],
            status=call.status,
            duration_ms=call.duration_ms,
            message=call.error
            or (f"waited {call.waited_ms} ms for the rate limit" if call.waited_ms else ""),
        )

    return record


def run_succeed(run: Run) -> None:
    with transaction.atomic():
        run.status = Run.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
    workflow_run_finished(run)
    logger.info(
        "run succeeded",
        extra={
            "portal": run.installation.hub_id,
            "subject": run.subject_id,
            "document": run.fortnox_document_number,
        },
    )


def run_fail(
    run_id: int,
    message: str,
    fix: str,
    *,
    code: str = "",
    service_message: str = "",
    note: bool = True,
) -> Run:
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("installation").get(pk=run_id)
        if run.is_finished:
            return run
        run.status = Run.Status.FAILED
        run.error_message, run.error_fix = message, fix
        run.error_code, run.service_message = code, service_message
        run.finished_at = timezone.now()
        run.save()
    run.steps.create(kind="error", attempt=run.attempts, message=f"{message} {fix}")
    logger.warning(
        "run failed",
        extra={"portal": run.installation.hub_id, "subject": run.subject_id, "reason": message},
    )
    if note and run.installation.is_active:
        try:
            hubspot = HubSpotClient(run.installation, observer=run_observer(run))
            run.note_id = deal_note_failure(hubspot, run)
            run.save(update_fields=["note_id"])
            record_update(
                hubspot,
                "deals",
                run.subject_id,
                {
                    "fortnox_document_type": run.kind,
                    "fortnox_status": "failed",
                    "fortnox_last_run": str(int(timezone.now().timestamp() * 1000)),
                },
            )
        except IntegrationError as exc:
            logger.error("failure note not written", extra={"run": run.pk, "why": str(exc)})
    workflow_run_finished(run)
    return run


class SkipReason:
    """Why a trigger was recorded as skipped (Run.error_code of a skipped run)."""

    ALREADY_CREATED = "already_created"
    AUTO_CREATE_OFF = "auto_create_off"


def run_skip(
    installation,
    *,
    subject_type: str,
    subject_id: str,
    kind: str,
    trigger_key: str,
    reason: str,
    done: Run | None = None,
) -> Run:
    """Record a trigger that deliberately creates nothing, as a finished run of status skipped.
    Call inside the caller's transaction."""
    now = timezone.now()
    if reason == SkipReason.ALREADY_CREATED and done is not None:
        label = done.get_kind_display().lower()
        message = (
            f"The deal reached its trigger stage again, but Fortnox {label} "
            f"{done.fortnox_document_number} was already created for it (run {done.pk}), so "
            "nothing new was created."
        )
        fix = "To bill again, create a new deal, or use a workflow action."
    else:
        message = (
            "The deal reached a trigger stage, but automatic creation is off in the app's "
            "settings, so nothing was created in Fortnox."
        )
        fix = "Turn automatic creation on in the app's settings, or use a workflow action."
    return Run.objects.create(
        installation=installation,
        subject_type=subject_type,
        subject_id=str(subject_id),
        kind=kind,
        trigger=Run.Trigger.STAGE,
        trigger_key=trigger_key,
        status=Run.Status.SKIPPED,
        error_code=reason,
        error_message=message,
        error_fix=fix,
        finished_at=now,
    )
