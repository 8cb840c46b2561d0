"""Ending a run: succeeded, failed or skipped, in one transaction with the deliveries that tell
the user (the note), the deal (its Fortnox properties) and the workflow that started it.

Every effect on HubSpot is a delivery row written with the run's final status and sent by its
own task (sync/deliveries.py), so a HubSpot outage at that moment delays the note, never loses it.
What leaves a note (issue 12's table): success and failure always; a skipped trigger the first
time only (per subject, trigger and reason), so a deal moved back and forth does not fill its
timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.quota import quota_release, usage_count, usage_lock
from integrations.calls import CallRecord
from integrations.models import HubSpotInstallation
from notes.replay import replay_url
from notes.services import document_url, note_marker
from sync.deliveries import (
    DeliverySpec,
    deliveries_create,
    note_spec,
    properties_spec,
    task_spec,
)
from sync.models import SYNC_KINDS, Run, SubjectType, SyncSettings
from sync.selectors import runs_for_trigger, sync_settings_get
from sync.steps import run_step_call_record
from sync.workflows import workflow_callback_specs

logger = logging.getLogger(__name__)


class SkipReason:
    """Why a trigger was recorded as skipped (Run.error_code of a skipped run)."""

    ALREADY_CREATED = "already_created"
    AUTO_CREATE_OFF = "auto_create_off"


def run_observer(run: Run):
    """Records each HTTP call the adapters make for the run as one of its steps."""

    def record(call: CallRecord) -> None:
        run_step_call_record(run.pk, run.attempts, call)

    return record


# The records a note can go on (integrations/hubspot/crm.py NOTE_ASSOCIATIONS).
NOTE_SUBJECTS = (SubjectType.DEAL, SubjectType.COMPANY, SubjectType.CONTACT)


def _now_ms() -> str:
    return str(int(timezone.now().timestamp() * 1000))


def _deal_properties(run: Run, status: str) -> DeliverySpec:
    properties = {
        "fortnox_document_type": run.kind,
        "fortnox_status": status,
        "fortnox_last_run": _now_ms(),
    }
    if run.fortnox_document_number:
        properties["fortnox_document_number"] = run.fortnox_document_number
    return properties_spec(run.subject_type, run.subject_id, properties, sequence=run.pk)


def portal_language(installation: HubSpotInstallation) -> str:
    """The language of the portal's notes and documents (SyncSettings.language)."""
    sync_settings = sync_settings_get(installation)
    return sync_settings.language if sync_settings else SyncSettings.Language.SWEDISH


def _run_note(run: Run, template: str, data: dict, pdf: dict | None = None) -> DeliverySpec:
    """A note on the run's subject; every note names its run (the marker a retry looks for).
    The note is rendered at send time in the portal's language (notes/services.py)."""
    language = portal_language(run.installation)
    return note_spec(
        run.subject_type,
        run.subject_id,
        template=template,
        data={
            **data,
            "run_id": run.pk,
            # English here; the note translates it (notes/services.py).
            "trigger_label": run.get_trigger_display(),
            "language": language,
        },
        marker=note_marker(run.pk, language),
        pdf=pdf,
    )


def _success_note(run: Run, tenant: str, quota_notice: dict | None = None) -> DeliverySpec:
    outcome = run.data_read.get("outcome", {})
    label = run.get_kind_display().lower()
    data = {
        "document_label": label,
        "document_number": run.fortnox_document_number,
        "customer_name": outcome.get("customer_name", ""),
        "customer_number": run.fortnox_customer_number,
        "customer_matched_by": outcome.get("customer_matched_by", ""),
        "total": outcome.get("total", str(run.total or "")),
        "total_vat": outcome.get("total_vat", ""),
        "currency": run.currency,
        "row_count": outcome.get("row_count", 0),
        "created_articles": outcome.get("created_articles", []),
        "placeholder_rows": outcome.get("placeholder_rows", []),
        # Fortnox's rate for a foreign currency, as read back ("" for SEK).
        "currency_rate": outcome.get("currency_rate", ""),
        "currency_unit": outcome.get("currency_unit", ""),
        "document_url": document_url(tenant, label, run.fortnox_document_number),
        # Fortnox's figures read back and the reconciliation (sync/document_run.py, issue 13).
        "net": outcome.get("net", ""),
        "round_off": outcome.get("round_off", ""),
        "document_date": outcome.get("document_date", ""),
        "due_date": outcome.get("due_date", ""),
        "differences": outcome.get("differences", run.reconciliation_differences),
        "checked": "differences" in outcome,
        "vat_overrides": outcome.get("vat_overrides", []),
        "service_rows": outcome.get("service_rows", []),
        "recurring_rows": outcome.get("recurring_rows", []),
        "adopted_from_run": outcome.get("adopted_from_run"),
        # The 80 % or 100 % of the portal's quota this document crossed (billing/quota.py).
        "quota_notice": quota_notice or {},
    }
    pdf = {
        "document_kind": run.kind,
        "number": run.fortnox_document_number,
        "file_name": f"Fortnox {label} {run.fortnox_document_number} (run {run.pk}).pdf",
    }
    return _run_note(run, "success", data, pdf)


def _failure_note(run: Run) -> DeliverySpec:
    data = {
        "document_label": run.get_kind_display().lower(),
        # Set when the failure came after the document existed: the note says it exists.
        "document_number": run.fortnox_document_number,
        "message": run.error_message,
        "fix": run.error_fix,
        "code": run.error_code,
        # Fortnox's error codes are numbers; ours are words.
        "service_label": "Fortnox" if run.error_code[:1].isdigit() else "The service",
        "service_message": run.service_message,
        "replay_url": replay_url(run.installation.hub_id, run.pk),
    }
    return _run_note(run, "failure", data)


def _failure_task(run: Run) -> list[DeliverySpec]:
    """With the portal's failure task on (SyncSettings.failure_task), a task for the deal's
    owner as well as the note: someone has to act before the deal is invoiced."""
    sync_settings = sync_settings_get(run.installation)
    if sync_settings is None or not sync_settings.failure_task:
        return []
    if run.subject_type != SubjectType.DEAL:
        return []
    language = sync_settings.language
    return [
        task_spec(
            run.subject_type,
            run.subject_id,
            data={
                "document_label": run.get_kind_display().lower(),
                "document_number": run.fortnox_document_number,
                "message": run.error_message,
                "fix": run.error_fix,
                "replay_url": replay_url(run.installation.hub_id, run.pk),
                "run_id": run.pk,
                "trigger_label": run.get_trigger_display(),
                "language": language,
            },
            marker=note_marker(run.pk, language),
        )
    ]


def _skipped_note(run: Run) -> DeliverySpec:
    return _run_note(run, "skipped", {"message": run.error_message, "fix": run.error_fix})


def _succeed(run: Run, specs: Callable[[], list[DeliverySpec]], *, counted: bool = False) -> None:
    """Mark the run succeeded and write its deliveries in one transaction, unless another
    attempt already ended it. A `counted` run (a document) is counted under the portal's lock,
    taken before the run's."""
    with transaction.atomic():
        if counted:
            usage_lock(run)
        locked = Run.objects.select_for_update().get(pk=run.pk)
        if locked.is_finished:
            return
        run.status = Run.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        made = specs()
        if made:
            deliveries_create(run.installation, made, run=run)


def run_succeed(run: Run, *, tenant: str) -> None:
    """The document exists: mark the run succeeded and send its note (with the PDF), the deal's
    properties and the workflow callback, all decided in one transaction."""

    def specs() -> list[DeliverySpec]:
        # Counted in this transaction, once per run and per Fortnox document (billing/quota.py).
        quota_notice = usage_count(run, tenant=tenant)
        return [
            _success_note(run, tenant, quota_notice),
            _deal_properties(run, "created"),
        ] + workflow_callback_specs(run)

    _succeed(run, specs, counted=True)
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
    reachable: bool = True,
) -> Run:
    """End the run as failed with what went wrong and what to change; its note, the deal's
    "failed" status and the workflow's FAIL_CONTINUE are sent as deliveries. `reachable=False`
    when HubSpot no longer accepts the app (uninstalled): nothing can be sent there."""
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
        quota_release(run)  # billing/quota.py: a failed run gives its reservation back
        if reachable and run.installation.is_active:
            if run.kind in SYNC_KINDS:
                specs = _sync_note(run, failed=True) + workflow_callback_specs(run)
            else:
                specs = (
                    [_failure_note(run), _deal_properties(run, "failed")]
                    + _failure_task(run)
                    + workflow_callback_specs(run)
                )
            deliveries_create(run.installation, specs, run=run)
    logger.warning(
        "run failed",
        extra={"portal": run.installation.hub_id, "subject": run.subject_id, "reason": message},
    )
    return run


def _sync_note(run: Run, *, failed: bool) -> list[DeliverySpec]:
    """The note of a customer or product sync, on the record it synced: only for syncs a person
    or a workflow asked for, and for failures a person will act on (issue 15). A bulk sync
    reports on the settings page, and a sync a HubSpot change started (a product edited) on the
    Runs tab: a note per record would bury real activity. Products take no notes in HubSpot, so
    a deal-based product sync notes the deal."""
    if run.subject_type not in NOTE_SUBJECTS:
        return []
    if run.trigger == Run.Trigger.BULK:
        return []
    if not failed and run.trigger not in Run.ASKED_TRIGGERS:
        return []
    outcome = run.data_read.get("outcome", {}) if run.data_read else {}
    data = {
        "sync_kind": run.kind,
        "subject_type": run.subject_type,
        "failed": failed,
        "outcome": outcome,
        "message": run.error_message,
        "fix": run.error_fix,
        "code": run.error_code,
        "service_label": "Fortnox" if run.error_code[:1].isdigit() else "The service",
        "service_message": run.service_message,
        "replay_url": replay_url(run.installation.hub_id, run.pk) if failed else "",
    }
    return [_run_note(run, "sync", data)]


def run_sync_succeed(run: Run) -> None:
    """A customer or product sync is done: mark it succeeded; its note (when one is due) and the
    workflow's callback are sent as deliveries in the same transaction. What it did is in
    `run.data_read["outcome"]` (sync/customer_sync.py, sync/product_sync.py)."""
    _succeed(run, lambda: _sync_note(run, failed=False) + workflow_callback_specs(run))
    logger.info(
        "sync run succeeded",
        extra={
            "portal": run.installation.hub_id,
            "subject": run.subject_id,
            "kind": run.kind,
            "customer": run.fortnox_customer_number,
        },
    )


def _skip_reason_text(reason: str, done: Run | None) -> tuple[str, str]:
    if reason == SkipReason.ALREADY_CREATED and done is not None:
        label = _("invoice") if done.kind == "invoice" else _("order")
        message = _(
            "The deal reached its trigger stage again, but Fortnox %(document)s %(number)s "
            "was already created for it (run %(run)s), so nothing new was created."
        ) % {"document": label, "number": done.fortnox_document_number, "run": done.pk}
        fix = _("Nothing to do. To bill the deal again, use a workflow action or a new deal.")
        return message, fix
    message = _(
        "The deal reached a trigger stage, but automatic creation is off in the app's "
        "settings, so nothing was created in Fortnox."
    )
    fix = _("Turn automatic creation on in the app's settings, or use a workflow action.")
    return message, fix


def run_skip(
    installation: HubSpotInstallation,
    *,
    subject_type: str,
    subject_id: str,
    kind: str,
    trigger_key: str,
    reason: str,
    done: Run | None = None,
) -> Run:
    """Record a trigger that deliberately creates nothing as a finished run of status skipped,
    with a short note the first time for this subject, trigger and reason. Call inside the
    caller's transaction. The message is kept in the portal's language: the note and the Runs
    tab show it as it is."""
    with translation.override(portal_language(installation)):
        message, fix = _skip_reason_text(reason, done)
    earlier = runs_for_trigger(
        installation,
        subject_type=subject_type,
        subject_id=subject_id,
        kind=kind,
        trigger_key=trigger_key,
    ).filter(status=Run.Status.SKIPPED, error_code=reason)
    first_time = not earlier.exists()
    run = Run.objects.create(
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
        finished_at=timezone.now(),
    )
    if first_time:
        deliveries_create(installation, [_skipped_note(run)], run=run)
    return run
