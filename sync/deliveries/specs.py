"""What the run engine asks for: delivery specs, and the rows written in its final
transaction."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery import current_app
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from integrations.hubspot.crm import (
    NOTE_ASSOCIATIONS,
    TASK_ASSOCIATIONS,
)
from integrations.models import HubSpotInstallation
from notes.services import note_body, note_data_check, note_has_marker
from sync.models import Delivery, Run

logger = logging.getLogger(__name__)

PDF_DOCUMENT_KINDS = ("invoice", "order")
NOTE_OBJECT_TYPES = tuple(NOTE_ASSOCIATIONS)
TASK_OBJECT_TYPES = tuple(TASK_ASSOCIATIONS)
# The task that sends a delivery (sync/tasks.py), sent by name: the tasks module imports this one.
SEND_TASK = "sync.tasks.delivery_send_task"
# How long a new delivery of record properties waits for others of its portal before its first
# attempt, so that runs finishing close together (a burst) share one batch update
# (sync/deliveries/batching.py): the deal's Fortnox properties land this much later, in a
# fraction of the calls. The note, which users read, does not wait.
PROPERTIES_BATCH_WINDOW_S = 2.0


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


def task_spec(
    object_type: str, object_id: str, *, data: dict[str, Any], marker: str
) -> DeliverySpec:
    """A task on a deal for its owner, rendered at send time from notes/task.html and `data`
    (the owner is read then, so the task goes to whoever owns the deal when it lands; a deal
    without one gets an unassigned task that says so). `marker` (note_marker(run id,
    language)) must be in the rendered body: a retry after a lost answer looks for it on the
    deal's tasks, as a note's retry does."""
    if object_type not in TASK_OBJECT_TYPES:
        raise DeliverySpecInvalid(
            f"object_type {object_type!r}: a task goes on one of {', '.join(TASK_OBJECT_TYPES)}"
        )
    data = _plain(data)
    try:
        note_data_check("task", data)
    except ValueError as exc:
        raise DeliverySpecInvalid(str(exc)) from None
    if not marker or not note_has_marker(note_body("task", data), marker):
        raise DeliverySpecInvalid(
            f"marker {marker!r} is not in the rendered task: use note_marker(run_id, language) "
            "with the run_id and language of the data"
        )
    return DeliverySpec(
        Delivery.Kind.TASK,
        {
            "object_type": object_type,
            "object_id": str(object_id),
            "data": data,
            "marker": marker,
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
def newer_deliveries(installation_id: int, record_key: str, sequence: int):
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
            if spec.kind == Delivery.Kind.PROPERTIES:
                # Waits for others of the portal to share its call (sync/deliveries/batching.py).
                delivery.next_attempt_at = timezone.now() + timedelta(
                    seconds=PROPERTIES_BATCH_WINDOW_S
                )
            if spec.record_key:
                newer = newer_deliveries(installation.pk, spec.record_key, spec.sequence).first()
                if newer is not None:
                    delivery.status = Delivery.Status.SUPERSEDED
                    delivery.last_error = superseded_by(newer)
            delivery.save()
            if spec.record_key and delivery.status == Delivery.Status.PENDING:
                Delivery.objects.filter(
                    installation=installation,
                    record_key=spec.record_key,
                    status=Delivery.Status.PENDING,
                    sequence__lt=spec.sequence,
                ).update(status=Delivery.Status.SUPERSEDED, last_error=superseded_by(delivery))
            created.append(delivery)
    pending = [d for d in created if d.status == Delivery.Status.PENDING]
    waiting = [d.pk for d in pending if d.kind == Delivery.Kind.PROPERTIES]
    at_once = [d.pk for d in pending if d.kind != Delivery.Kind.PROPERTIES]
    if at_once:
        transaction.on_commit(lambda: deliveries_send(at_once))
    if waiting:
        transaction.on_commit(lambda: deliveries_send(waiting, countdown=PROPERTIES_BATCH_WINDOW_S))
    return created


def superseded_by(newer: Delivery) -> str:
    run = f" (run {newer.run_id})" if newer.run_id else ""
    return f"Superseded by delivery {newer.pk}{run}, which carries newer values."


def deliveries_send(ids: list[int], countdown: float = 0) -> None:
    """Send the tasks (due in `countdown` seconds). A broker that is down loses nothing: the
    sweep sends them later."""
    for delivery_id in ids:
        try:
            current_app.send_task(SEND_TASK, args=[delivery_id], countdown=countdown or None)
        except OperationalError:
            logger.warning(
                "delivery task not sent; the sweep will", extra={"delivery": delivery_id}
            )
