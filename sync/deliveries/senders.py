"""How each kind of delivery is sent: the note with its PDF (checked before it repeats), record
properties, and the workflow callback."""

from __future__ import annotations

from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from integrations.errors import IntegrationError
from integrations.fortnox.client import FortnoxClient
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import (
    file_upload,
    note_create,
    record_get,
    record_notes_read,
    record_tasks_read,
    record_update,
    task_create,
    workflow_callback_complete,
)
from integrations.models import HubSpotInstallation
from notes.services import note_body, note_has_marker, note_language, task_subject
from sync.deliveries.state import (
    Adopted,
    Attempt,
    certainly_not_carried_out,
    outcome_unknown_set,
    result_save,
)
from sync.models import Delivery

# A note waits this long for its PDF while Fortnox fails transiently, then goes without it
# (saying why): the outcome matters more than the attachment.
PDF_PATIENCE_S = 3600


# -- the note ------------------------------------------------------------------------------------
def _pdf_fetch(installation: HubSpotInstallation, pdf: dict[str, str], attempt) -> bytes:
    connection = installation.active_fortnox_connection()
    if connection is None:
        raise _PdfProblem(_("Fortnox is no longer connected to this portal."))
    client = FortnoxClient(connection, observer=attempt)
    return client.document_preview_pdf(pdf["document_kind"], pdf["number"])


class _PdfProblem(Exception):
    pass


def _note_attachment(
    delivery: Delivery, hubspot: HubSpotClient, attempt: Attempt
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
        uploaded = file_upload(hubspot, pdf["file_name"], content)
    except _PdfProblem as exc:
        problem = str(exc)
    except IntegrationError as exc:
        waited = (timezone.now() - delivery.created_at).total_seconds()
        if exc.transient and waited < PDF_PATIENCE_S:
            raise
        problem = f"{exc.message} {exc.fix}".strip()
    else:
        result_save(delivery, file_id=uploaded["id"], pdf_bytes=len(content))
        return [uploaded["id"]], ""
    result_save(delivery, pdf_problem=problem)
    return [], problem


def _note_find(delivery: Delivery, hubspot: HubSpotClient) -> str | None:
    payload = delivery.payload
    notes = record_notes_read(hubspot, payload["object_type"], payload["object_id"])
    for note_id, body in sorted(notes.items()):
        if note_has_marker(body, payload["marker"]):
            return note_id
    return None


def _send_note(delivery: Delivery, hubspot: HubSpotClient, attempt: Attempt) -> dict[str, Any]:
    payload = delivery.payload
    if delivery.outcome_unknown:
        found = _note_find(delivery, hubspot)
        if found is not None:
            raise Adopted(
                {**delivery.result, "note_id": found},
                f"Note {found} found on the record: an earlier attempt stored it although "
                "its answer was lost.",
            )
    # Why the PDF is missing is shown on the note: in the note's language.
    with translation.override(note_language(payload["data"])):
        attachment_ids, pdf_problem = _note_attachment(delivery, hubspot, attempt)
    body = note_body(
        payload["template"],
        payload["data"],
        pdf_attached=bool(attachment_ids),
        pdf_problem=pdf_problem,
    )
    outcome_unknown_set(delivery, True)  # committed before the request leaves
    try:
        note_id = note_create(
            hubspot,
            body,
            int(delivery.created_at.timestamp() * 1000),  # when it happened, not when it landed
            {payload["object_type"]: payload["object_id"]},
            attachment_ids,
        )
    except IntegrationError as exc:
        if certainly_not_carried_out(exc):
            outcome_unknown_set(delivery, False)
        raise
    return {**delivery.result, "note_id": note_id}


# -- the failure task ----------------------------------------------------------------------------
# A task is due this long after the failure: today's work, not a someday.
TASK_DUE_S = 3600


def _send_task(delivery: Delivery, hubspot: HubSpotClient, attempt: Attempt) -> dict[str, Any]:
    payload = delivery.payload
    object_type, object_id = payload["object_type"], payload["object_id"]
    if delivery.outcome_unknown:
        tasks = record_tasks_read(hubspot, object_type, object_id)
        for task_id, body in sorted(tasks.items()):
            if note_has_marker(body, payload["marker"]):
                raise Adopted(
                    {**delivery.result, "task_id": task_id},
                    f"Task {task_id} found on the record: an earlier attempt created it "
                    "although its answer was lost.",
                )
    owner_id = str(
        record_get(hubspot, object_type, object_id, ["hubspot_owner_id"]).properties.get(
            "hubspot_owner_id"
        )
        or ""
    )
    data = {**payload["data"], "unassigned": not owner_id}
    outcome_unknown_set(delivery, True)  # committed before the request leaves
    try:
        task_id = task_create(
            hubspot,
            subject=task_subject(payload["data"]),
            body_html=note_body("task", data),
            due_ms=int(delivery.created_at.timestamp() * 1000) + TASK_DUE_S * 1000,
            owner_id=owner_id,
            associate={object_type: object_id},
        )
    except IntegrationError as exc:
        if certainly_not_carried_out(exc):
            outcome_unknown_set(delivery, False)
        raise
    return {"task_id": task_id, "owner_id": owner_id}


# -- record properties ---------------------------------------------------------------------------
def _send_properties(
    delivery: Delivery, hubspot: HubSpotClient, attempt: Attempt
) -> dict[str, Any]:
    payload = delivery.payload
    # A PATCH of the same values is harmless to repeat: no outcome check needed.
    record_update(hubspot, payload["object_type"], payload["object_id"], payload["properties"])
    return {"properties_set": sorted(payload["properties"])}


# -- the workflow callback -----------------------------------------------------------------------
def _send_workflow_callback(
    delivery: Delivery, hubspot: HubSpotClient, attempt: Attempt
) -> dict[str, Any]:
    payload = delivery.payload
    earlier_unknown = delivery.outcome_unknown
    try:
        workflow_callback_complete(hubspot, payload["callback_id"], payload["output_fields"])
    except IntegrationError as exc:
        if not certainly_not_carried_out(exc):
            outcome_unknown_set(delivery, True)
        elif earlier_unknown and exc.status not in (401, 403, 429):
            # HubSpot completes a callback once. After an attempt whose answer was lost, a
            # refusal of the repeat means that attempt completed it. (The sandbox answers a
            # repeat with 204 as well; HubSpot's answer to a repeat is undocumented.)
            raise Adopted(
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
    Delivery.Kind.TASK: _send_task,
}
