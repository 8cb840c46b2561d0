"""Deliveries: each effect a run has on HubSpot (the note with its PDF, the deal's properties,
the workflow callback) is a row written in the same transaction as the run's final status, and
sent by its own task until it lands or is given up with a reason (Saleor's EventDelivery and
attempt rows are the model).

- Transient failures (429, 5xx, network, any IntegrationError with transient=True) are retried
  by the task with exponential backoff and jitter for about a day: HubSpot keeps a BLOCKed
  workflow waiting a week, and a note late is better than none. Permanent ones (record deleted,
  validation, portal uninstalled) give up at once. Giving up writes the reason on the row
  (Django admin) and an ERROR log line with the delivery, run and portal ids.
- State-carrying deliveries (record properties) are ordered by `sequence` (the run's pk): a
  newer one for the same record supersedes older pending ones, which are then never sent, and
  one waits while an older one of the same record is mid-send, so they land in order.
- Non-idempotent deliveries (the note) check before they repeat: before a note whose earlier
  attempt's outcome is unknown is sent again, the record's notes are searched for its marker
  (the footer's "run <id>"), and a note found is adopted. The PDF is uploaded under a name
  unique to the run with RETURN_EXISTING, so repeating the upload returns the same file.

`delivery_send` makes one attempt under a lease; the minute sweep sends again deliveries whose
task was lost or whose worker died.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from cloudify.logging import bind_run_id
from integrations.calls import CallRecord
from integrations.errors import IntegrationError
from integrations.fortnox.client import FortnoxClient
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import (
    NOTE_ASSOCIATIONS,
    file_upload_once,
    note_create,
    record_notes_read,
    record_update,
    workflow_callback_complete_once,
)
from integrations.hubspot.errors import HubSpotUninstalled
from integrations.models import HubSpotInstallation
from notes.services import note_body, note_data_check, note_has_marker
from sync.models import Delivery, DeliveryAttempt, Run

logger = logging.getLogger(__name__)

# Backoff: the base delay comes from settings (DELIVERY_RETRY_BASE_S, short in tests). Each
# countdown stays under the broker's visibility timeout (3600 s, cloudify/settings/celery.py):
# a Redis ETA task held longer than that is delivered twice.
RETRY_CAP_S = 30 * 60
# A day of tries, then give up: HubSpot keeps a BLOCKed workflow a week (hubspot-api.md §5),
# and its own webhook retries span 24 h; past a day the user has long moved on.
GIVE_UP_AFTER_S = 24 * 3600
# An attempt holds its delivery this long; past it the worker is taken for dead. Longer than a
# task may live (CELERY_TASK_TIME_LIMIT), so a live attempt never loses its lease.
LEASE_MARGIN_S = 60
# While an older delivery of the same record is mid-send, wait this long and look again.
ORDER_WAIT_S = 2.0
# The sweep sends again a pending delivery this long past due (its task was lost).
SWEEP_GRACE_S = 120
SWEEP_BATCH = 500
# A note waits this long for its PDF while Fortnox fails transiently, then goes without it
# (saying why): the outcome matters more than the attachment.
PDF_PATIENCE_S = 3600
# A task may arrive this early for its due time (clocks of workers differ a little).
EARLY_TOLERANCE_S = 2.0

PDF_DOCUMENT_KINDS = ("invoice", "order")
NOTE_OBJECT_TYPES = tuple(NOTE_ASSOCIATIONS)


# -- specs: what the run engine asks for ---------------------------------------------------------
@dataclass(frozen=True)
class DeliverySpec:
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    record_key: str = ""
    sequence: int = 0


class DeliverySpecInvalid(ValueError):
    pass


def _plain(data: Any) -> Any:
    """JSON-safe data (Decimals and dates become strings), as stored in the payload."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def note_spec(
    object_type: str,
    object_id: str,
    *,
    template: str,
    data: dict[str, Any],
    marker: str,
    pdf: dict[str, str] | None = None,
) -> DeliverySpec:
    """A note on a record, rendered at send time from `template` and `data` (notes/services.py).
    `marker` (notes.services.note_marker(run id)) must be in the rendered note: it is what a
    retry looks for after a lost answer. `pdf`: {"document_kind": "invoice"|"order", "number",
    "file_name"} (file_name unique to the run) to attach the document's PDF from Fortnox."""
    if object_type not in NOTE_OBJECT_TYPES:
        raise DeliverySpecInvalid(
            f"object_type {object_type!r}: a note goes on one of {', '.join(NOTE_OBJECT_TYPES)}"
        )
    data = _plain(data)
    try:
        note_data_check(template, data)
    except ValueError as exc:
        raise DeliverySpecInvalid(str(exc)) from None
    if not marker or not note_has_marker(note_body(template, data), marker):
        raise DeliverySpecInvalid(
            f"marker {marker!r} is not in the rendered {template} note: use note_marker(run_id) "
            "with the run_id of the data"
        )
    if pdf is not None:
        missing = [k for k in ("document_kind", "number", "file_name") if not pdf.get(k)]
        if missing:
            raise DeliverySpecInvalid(f"pdf needs {', '.join(missing)}")
        if pdf["document_kind"] not in PDF_DOCUMENT_KINDS:
            raise DeliverySpecInvalid(
                f"pdf document_kind {pdf['document_kind']!r}: use invoice or order"
            )
        pdf = {k: str(pdf[k]) for k in ("document_kind", "number", "file_name")}
    return DeliverySpec(
        Delivery.Kind.NOTE,
        {
            "object_type": object_type,
            "object_id": str(object_id),
            "template": template,
            "data": data,
            "marker": marker,
            "pdf": pdf,
        },
    )


def _hubspot_value(value: Any) -> str:
    """HubSpot takes property values as strings; booleans as "true"/"false", none as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def properties_spec(
    object_type: str, object_id: str, properties: dict[str, Any], *, sequence: int
) -> DeliverySpec:
    """Set properties on a record: the record's state as of the run. `sequence` (the run's pk)
    orders deliveries of one record: a newer run's supersedes older runs' pending ones, which
    are then never sent, so give each delivery every property of that state."""
    if not properties:
        raise DeliverySpecInvalid("properties is empty: nothing to set")
    return DeliverySpec(
        Delivery.Kind.PROPERTIES,
        {
            "object_type": object_type,
            "object_id": str(object_id),
            "properties": {k: _hubspot_value(v) for k, v in properties.items()},
        },
        record_key=f"{object_type}:{object_id}",
        sequence=int(sequence),
    )


def workflow_callback_spec(callback_id: str, output_fields: dict[str, Any]) -> DeliverySpec:
    """Complete a BLOCKed workflow action with `output_fields` (hs_execution_state, ...)."""
    if not callback_id:
        raise DeliverySpecInvalid("callback_id is empty")
    return DeliverySpec(
        Delivery.Kind.WORKFLOW_CALLBACK,
        {
            "callback_id": str(callback_id),
            "output_fields": {k: _hubspot_value(v) for k, v in output_fields.items()},
        },
    )


# -- creating ------------------------------------------------------------------------------------
def _newer(installation_id: int, record_key: str, sequence: int):
    """Deliveries of the same record from a later run. Those of one run (equal sequence) do not
    supersede each other: they are sent one after the other, in the order they were made."""
    return Delivery.objects.filter(
        installation_id=installation_id, record_key=record_key, sequence__gt=sequence
    )


def deliveries_create(
    installation: HubSpotInstallation, specs: Iterable[DeliverySpec], *, run: Run | None = None
) -> list[Delivery]:
    """Record the deliveries; call it inside the transaction that sets the run's final status.
    Their tasks are sent when that transaction commits."""
    created: list[Delivery] = []
    with transaction.atomic():
        for spec in specs:
            delivery = Delivery(
                installation=installation,
                run=run,
                kind=spec.kind,
                record_key=spec.record_key,
                sequence=spec.sequence,
                payload=spec.payload,
            )
            if spec.record_key:
                newer = _newer(installation.pk, spec.record_key, spec.sequence).first()
                if newer is not None:
                    delivery.status = Delivery.Status.SUPERSEDED
                    delivery.last_error = _superseded_by(newer)
            delivery.save()
            if spec.record_key and delivery.status == Delivery.Status.PENDING:
                Delivery.objects.filter(
                    installation=installation,
                    record_key=spec.record_key,
                    status=Delivery.Status.PENDING,
                    sequence__lt=spec.sequence,
                ).update(status=Delivery.Status.SUPERSEDED, last_error=_superseded_by(delivery))
            created.append(delivery)
    pending = [d.pk for d in created if d.status == Delivery.Status.PENDING]
    if pending:
        transaction.on_commit(lambda: deliveries_send(pending))
    return created


def _superseded_by(newer: Delivery) -> str:
    run = f" (run {newer.run_id})" if newer.run_id else ""
    return f"Superseded by delivery {newer.pk}{run}, which carries newer values."


def deliveries_send(ids: list[int]) -> None:
    """Send the tasks. A broker that is down loses nothing: the sweep sends them later."""
    from sync.tasks import delivery_send_task

    for delivery_id in ids:
        try:
            delivery_send_task.delay(delivery_id)
        except OperationalError:
            logger.warning(
                "delivery task not sent; the sweep will", extra={"delivery": delivery_id}
            )


# -- sending -------------------------------------------------------------------------------------
class _Attempt:
    """What one attempt saw of HubSpot and Fortnox: the last HTTP status, for the attempt row."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.started = time.monotonic()

    def __call__(self, call: CallRecord) -> None:
        self.status = call.status

    @property
    def duration_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


class _Adopted(Exception):
    """An earlier attempt's send did land: take its result."""

    def __init__(self, result: dict[str, Any], why: str) -> None:
        super().__init__(why)
        self.result = result
        self.why = why


def delivery_send(delivery_id: int) -> float | None:
    """One attempt, under a lease. Returns seconds until the next attempt is due (the task
    retries with that countdown), or None when there is nothing more to do now (delivered,
    superseded, given up, or another worker holds it)."""
    leased = _lease(delivery_id)
    if not isinstance(leased, Delivery):
        return leased
    with bind_run_id(leased.run_id or "-"):
        return _attempt(leased)


def _lease(delivery_id: int) -> Delivery | float | None:
    """The delivery, now held by this attempt; or what delivery_send returns instead."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("installation")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return None
        if delivery.lease_until and delivery.lease_until > now:
            return None  # another worker is sending it
        if delivery.next_attempt_at > now + timedelta(seconds=EARLY_TOLERANCE_S):
            return None  # a task for the next attempt is already on its way
        if delivery.record_key:
            newer = _newer(delivery.installation_id, delivery.record_key, delivery.sequence).first()
            if newer is not None:
                delivery.status = Delivery.Status.SUPERSEDED
                delivery.last_error = _superseded_by(newer)
                delivery.save(update_fields=["status", "last_error"])
                DeliveryAttempt.objects.create(
                    delivery=delivery, outcome="superseded", error=delivery.last_error
                )
                return None
            older_in_flight = (
                Delivery.objects.filter(
                    installation_id=delivery.installation_id,
                    record_key=delivery.record_key,
                    lease_until__gt=now,
                )
                .filter(
                    Q(sequence__lt=delivery.sequence)
                    | Q(sequence=delivery.sequence, pk__lt=delivery.pk)
                )
                .exists()
            )
            if older_in_flight:
                # Land after it, not before: its values are older and must not win.
                delivery.next_attempt_at = now + timedelta(seconds=ORDER_WAIT_S)
                delivery.save(update_fields=["next_attempt_at"])
                return ORDER_WAIT_S
        if not delivery.installation.is_active:
            _give_up(
                delivery,
                f"The app is no longer installed in HubSpot portal "
                f"{delivery.installation.hub_id}, so nothing can be sent there.",
                _Attempt(),
            )
            return None
        delivery.attempts += 1
        delivery.lease_until = now + timedelta(
            seconds=settings.CELERY_TASK_TIME_LIMIT + LEASE_MARGIN_S
        )
        delivery.save(update_fields=["attempts", "lease_until"])
    return delivery


def _attempt(delivery: Delivery) -> float | None:
    attempt = _Attempt()
    hubspot = HubSpotClient(delivery.installation, observer=attempt)
    try:
        result = SENDERS[delivery.kind](delivery, hubspot, attempt)
    except _Adopted as adopted:
        _delivered(delivery, adopted.result, attempt, outcome="adopted", note=adopted.why)
        return None
    except HubSpotUninstalled as exc:
        _give_up(delivery, f"{exc.message} {exc.fix}".strip(), attempt)
        return None
    except IntegrationError as exc:
        if exc.transient:
            return _retry_or_give_up(delivery, str(exc), attempt)
        _give_up(delivery, _permanent_reason(exc), attempt)
        return None
    except Exception as exc:  # a fault of ours or an SDK surprise: keep trying, say what it was
        logger.exception("delivery attempt failed unexpectedly", extra={"delivery": delivery.pk})
        return _retry_or_give_up(delivery, f"Unexpected error: {exc!r}", attempt)
    _delivered(delivery, result, attempt)
    return None


def _permanent_reason(exc: IntegrationError) -> str:
    said = f" ({exc.service} said: {exc.service_message})" if exc.service_message else ""
    return f"{exc.message}{said} {exc.fix}".strip()


def retry_delay_s(attempts: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, then between half and all of it."""
    base = float(settings.DELIVERY_RETRY_BASE_S)
    delay = min(RETRY_CAP_S, base * 2 ** max(0, attempts - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def _attempt_row(delivery: Delivery, outcome: str, attempt: _Attempt, error: str = "") -> None:
    DeliveryAttempt.objects.create(
        delivery=delivery,
        outcome=outcome,
        status_code=attempt.status,
        error=error,
        duration_ms=attempt.duration_ms,
    )


def _delivered(
    delivery: Delivery,
    result: dict[str, Any],
    attempt: _Attempt,
    *,
    outcome: str = "delivered",
    note: str = "",
) -> None:
    now = timezone.now()
    with transaction.atomic():
        # Delivered even if a newer one superseded it mid-send: it did land (before the newer
        # one, which waited for its lease).
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.DELIVERED,
            result=result,
            delivered_at=now,
            lease_until=None,
            outcome_unknown=False,
            last_error="",
        )
        _attempt_row(delivery, outcome, attempt, note)
    logger.info(
        "delivery delivered",
        extra={
            "delivery": delivery.pk,
            "run": delivery.run_id,
            "portal": delivery.installation.hub_id,
            "kind": delivery.kind,
            "attempts": delivery.attempts,
        },
    )


def _retry_or_give_up(delivery: Delivery, error: str, attempt: _Attempt) -> float | None:
    now = timezone.now()
    if (now - delivery.created_at).total_seconds() >= GIVE_UP_AFTER_S:
        hours = GIVE_UP_AFTER_S // 3600
        _give_up(
            delivery,
            f"HubSpot did not take it for {hours} hours ({delivery.attempts} attempts). "
            f"Last error: {error}",
            attempt,
        )
        return None
    delay = retry_delay_s(delivery.attempts)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            lease_until=None, next_attempt_at=now + timedelta(seconds=delay)
        )
        # One superseded meanwhile keeps its reason; the attempt row still has this error.
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(
            last_error=error[:2000]
        )
        _attempt_row(delivery, "retry", attempt, error)
    logger.warning(
        "delivery attempt failed; retrying",
        extra={
            "delivery": delivery.pk,
            "run": delivery.run_id,
            "portal": delivery.installation.hub_id,
            "kind": delivery.kind,
            "attempts": delivery.attempts,
            "retry_in_s": round(delay, 1),
            "why": error,
        },
    )
    return delay


def _give_up(delivery: Delivery, reason: str, attempt: _Attempt) -> None:
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(lease_until=None)
        pending = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING)
        if not pending.update(
            status=Delivery.Status.GAVE_UP, gave_up_reason=reason, last_error=reason[:2000]
        ):
            # Superseded while this attempt was under way: the newer one carries the values.
            _attempt_row(delivery, "superseded", attempt, reason)
            return
        _attempt_row(delivery, "gave_up", attempt, reason)
    logger.error(
        "delivery gave up",
        extra={
            "delivery": delivery.pk,
            "run": delivery.run_id,
            "portal": delivery.installation.hub_id,
            "kind": delivery.kind,
            "attempts": delivery.attempts,
            "reason": reason,
        },
    )


def _result_save(delivery: Delivery, **values: Any) -> None:
    """Remember part of the outcome at once (the uploaded file), before the next step."""
    delivery.result = {**delivery.result, **values}
    Delivery.objects.filter(pk=delivery.pk).update(result=delivery.result)


def _outcome_unknown_set(delivery: Delivery, unknown: bool) -> None:
    values: dict[str, Any] = {"outcome_unknown": unknown}
    if unknown:
        values["send_started_at"] = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(**values)
    delivery.outcome_unknown = unknown


def _certainly_not_carried_out(exc: IntegrationError) -> bool:
    """HubSpot answered a 4xx (including 429): it refused the request, stored nothing. A 5xx or
    no answer at all leaves the outcome unknown."""
    return exc.status is not None and exc.status < 500


# -- the note ------------------------------------------------------------------------------------
def fortnox_document_kind(document_kind: str) -> str:
    """Our document kind → the FortnoxClient's ("invoice" → "invoices"). One place to change
    when the adapter takes "invoice"/"order" itself."""
    return {"invoice": "invoices", "order": "orders"}[document_kind]


def _pdf_fetch(installation: HubSpotInstallation, pdf: dict[str, str], attempt) -> bytes:
    connection = installation.active_fortnox_connection()
    if connection is None:
        raise _PdfProblem("Fortnox is no longer connected to this portal.")
    client = FortnoxClient(connection, observer=attempt)
    return client.document_preview_pdf(fortnox_document_kind(pdf["document_kind"]), pdf["number"])


class _PdfProblem(Exception):
    pass


def _note_attachment(
    delivery: Delivery, hubspot: HubSpotClient, attempt: _Attempt
) -> tuple[list[str], str]:
    """(attachment ids, why the PDF is missing). A transient problem is raised (the note
    waits for its PDF); a permanent one is remembered and the note says why."""
    pdf = delivery.payload.get("pdf")
    result = delivery.result
    if not pdf:
        return [], ""
    if result.get("file_id"):
        return [result["file_id"]], ""
    if result.get("pdf_problem"):
        return [], result["pdf_problem"]
    try:
        content = _pdf_fetch(delivery.installation, pdf, attempt)
        uploaded = file_upload_once(hubspot, pdf["file_name"], content)
    except _PdfProblem as exc:
        problem = str(exc)
    except IntegrationError as exc:
        waited = (timezone.now() - delivery.created_at).total_seconds()
        if exc.transient and waited < PDF_PATIENCE_S:
            raise
        problem = f"{exc.message} {exc.fix}".strip()
    else:
        _result_save(delivery, file_id=uploaded["id"], pdf_bytes=len(content))
        return [uploaded["id"]], ""
    _result_save(delivery, pdf_problem=problem)
    return [], problem


def _note_find(delivery: Delivery, hubspot: HubSpotClient) -> str | None:
    payload = delivery.payload
    notes = record_notes_read(hubspot, payload["object_type"], payload["object_id"])
    for note_id, body in sorted(notes.items()):
        if note_has_marker(body, payload["marker"]):
            return note_id
    return None


def _send_note(delivery: Delivery, hubspot: HubSpotClient, attempt: _Attempt) -> dict[str, Any]:
    payload = delivery.payload
    if delivery.outcome_unknown:
        found = _note_find(delivery, hubspot)
        if found is not None:
            raise _Adopted(
                {**delivery.result, "note_id": found},
                f"Note {found} found on the record: an earlier attempt stored it although "
                "its answer was lost.",
            )
    attachment_ids, pdf_problem = _note_attachment(delivery, hubspot, attempt)
    body = note_body(
        payload["template"],
        payload["data"],
        pdf_attached=bool(attachment_ids),
        pdf_problem=pdf_problem,
    )
    _outcome_unknown_set(delivery, True)  # committed before the request leaves
    try:
        note_id = note_create(
            hubspot,
            body,
            int(delivery.created_at.timestamp() * 1000),  # when it happened, not when it landed
            {payload["object_type"]: payload["object_id"]},
            attachment_ids,
        )
    except IntegrationError as exc:
        if _certainly_not_carried_out(exc):
            _outcome_unknown_set(delivery, False)
        raise
    return {**delivery.result, "note_id": note_id}


# -- record properties ---------------------------------------------------------------------------
def _send_properties(
    delivery: Delivery, hubspot: HubSpotClient, attempt: _Attempt
) -> dict[str, Any]:
    payload = delivery.payload
    # A PATCH of the same values is harmless to repeat: no outcome check needed.
    record_update(hubspot, payload["object_type"], payload["object_id"], payload["properties"])
    return {"properties_set": sorted(payload["properties"])}


# -- the workflow callback -----------------------------------------------------------------------
def _send_workflow_callback(
    delivery: Delivery, hubspot: HubSpotClient, attempt: _Attempt
) -> dict[str, Any]:
    payload = delivery.payload
    earlier_unknown = delivery.outcome_unknown
    try:
        workflow_callback_complete_once(hubspot, payload["callback_id"], payload["output_fields"])
    except IntegrationError as exc:
        if not _certainly_not_carried_out(exc):
            _outcome_unknown_set(delivery, True)
        elif earlier_unknown and exc.status not in (401, 403, 429):
            # HubSpot completes a callback once. After an attempt whose answer was lost, a
            # refusal of the repeat means that attempt completed it. (The sandbox answers a
            # repeat with 204 as well; HubSpot's answer to a repeat is undocumented.)
            raise _Adopted(
                {"completed": True},
                f"HubSpot refused the repeat (HTTP {exc.status}): the earlier attempt, whose "
                "answer was lost, completed the callback.",
            ) from None
        raise
    return {"completed": True}


SENDERS = {
    Delivery.Kind.NOTE: _send_note,
    Delivery.Kind.PROPERTIES: _send_properties,
    Delivery.Kind.WORKFLOW_CALLBACK: _send_workflow_callback,
}


# -- the safety net ------------------------------------------------------------------------------
def deliveries_sweep() -> dict[str, int]:
    """Every minute (beat): send again the pending deliveries whose task was lost (due for
    SWEEP_GRACE_S and not leased) or whose worker died (the lease ran out)."""
    now = timezone.now()
    due = now - timedelta(seconds=SWEEP_GRACE_S)
    base = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=due)
    lost_tasks = list(
        base.filter(lease_until__isnull=True).values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    dead_workers = list(base.filter(lease_until__lt=now).values_list("pk", flat=True)[:SWEEP_BATCH])
    ids = lost_tasks + dead_workers
    if ids:
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now)
        deliveries_send(ids)
        logger.warning(
            "deliveries sent again by the sweep",
            extra={"lost_tasks": len(lost_tasks), "dead_workers": len(dead_workers)},
        )
    return {"lost_tasks": len(lost_tasks), "dead_workers": len(dead_workers)}
