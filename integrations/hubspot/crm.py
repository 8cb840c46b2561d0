"""Typed CRM calls the features make, each through HubSpotClient.call (pacing, retries, errors).

Return values are plain dicts and lists, so nothing outside integrations/ sees an SDK model.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

from hubspot.automation.actions import CallbackCompletionRequest
from hubspot.crm.objects import (
    AssociationSpec,
    BatchInputSimplePublicObjectBatchInput,
    BatchReadInputSimplePublicObjectId,
    PublicAssociationsForObject,
    PublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.errors import HubSpotError, error_for_status

BATCH_SIZE = 100  # HubSpot's batch limit for CRM objects (hubspot-api.md §6, batch limits)
NOTE_BODY_MAX = 65_536

# Association type ids (SDK enum hubspot/crm/association_type.py; hubspot-api.md §6).
NOTE_TO_DEAL = 214
NOTE_TO_CONTACT = 202
NOTE_TO_COMPANY = 190
PRIMARY_DEAL_TO_COMPANY = 5  # the deal's primary company; every company also has 341
NOTE_ASSOCIATIONS = {
    "deals": NOTE_TO_DEAL,
    "contacts": NOTE_TO_CONTACT,
    "companies": NOTE_TO_COMPANY,
}
# A task on a deal (SDK enum TASK_TO_DEAL; HubSpot's tasks guide, "Associations").
TASK_TO_DEAL = 216
TASK_ASSOCIATIONS = {"deals": TASK_TO_DEAL}


@dataclass
class CrmRecord:
    id: str
    properties: dict[str, Any]
    associations: dict[str, list[str]] = field(default_factory=dict)


def _associations(raw: Any) -> dict[str, list[str]]:
    """HubSpot names the line item association "line items" in responses; normalise keys."""
    result: dict[str, list[str]] = {}
    for name, collection in (raw or {}).items():
        key = name.replace(" ", "_")
        result[key] = [str(item.id) for item in (collection.results or [])]
    return result


def record_get(
    client: HubSpotClient,
    object_type: str,
    object_id: str,
    properties: list[str],
    associations: list[str] | None = None,
) -> CrmRecord:
    obj = client.call(
        f"{object_type[:-1]} {object_id}",
        f"GET /crm/v3/objects/{object_type}/{{id}}",
        lambda c: c.crm.objects.basic_api.get_by_id,
        object_type,
        object_id,
        properties=properties,
        associations=associations or None,
    )
    return CrmRecord(str(obj.id), dict(obj.properties or {}), _associations(obj.associations))


def records_read(
    client: HubSpotClient, object_type: str, ids: list[str], properties: list[str]
) -> dict[str, CrmRecord]:
    """Batch read, 100 ids per call; returns the records found, by id."""
    found: dict[str, CrmRecord] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), BATCH_SIZE):
        chunk = unique[start : start + BATCH_SIZE]
        response = client.call(
            f"{object_type}",
            f"POST /crm/v3/objects/{object_type}/batch/read",
            lambda c: c.crm.objects.batch_api.read,
            object_type,
            BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in chunk],
                properties=properties,
                properties_with_history=[],
            ),
        )
        for obj in response.results or []:
            found[str(obj.id)] = CrmRecord(str(obj.id), dict(obj.properties or {}))
    return found


def record_update(
    client: HubSpotClient, object_type: str, object_id: str, properties: dict[str, Any]
) -> None:
    client.call(
        f"{object_type[:-1]} {object_id}",
        f"PATCH /crm/v3/objects/{object_type}/{{id}}",
        lambda c: c.crm.objects.basic_api.update,
        object_type,
        object_id,
        SimplePublicObjectInput(properties=properties),
    )


# A batch error's category, and the status a single update of its records would have met.
BATCH_ERROR_STATUS = {"OBJECT_NOT_FOUND": 404, "VALIDATION_ERROR": 400}


@dataclass
class BatchUpdateOutcome:
    """What HubSpot said of each record of a batch update: the ids it updated, and those it
    named in an error, with the error a single update of the record would have raised."""

    updated: set[str] = field(default_factory=set)
    failed: dict[str, HubSpotError] = field(default_factory=dict)


def records_update_batch(
    client: HubSpotClient, object_type: str, updates: dict[str, dict[str, Any]]
) -> BatchUpdateOutcome:
    """Set properties on up to BATCH_SIZE records in one call
    (POST /crm/v3/objects/{type}/batch/update). HubSpot answers 200 when every input was
    updated and 207 Multi-Status when some were not (its changelog "Simplifying batch update
    response codes for CRM v3 APIs"): `results` holds the updated records and each of `errors`
    names its records in `context.ids` (OBJECT_NOT_FOUND for a deleted one). An id named in
    neither is left for the caller to send on its own. An answer that refuses the batch as a
    whole (400 for one bad input, 429, 5xx) is raised as HubSpotError, as for a single update.
    Two inputs for one id are refused (HubSpot's "Duplicate IDs found in batch input"), so
    `updates` is keyed by id."""
    if len(updates) > BATCH_SIZE:
        raise ValueError(f"at most {BATCH_SIZE} records per batch update, not {len(updates)}")
    response = client.call(
        f"{object_type}",
        f"POST /crm/v3/objects/{object_type}/batch/update",
        lambda c: c.crm.objects.batch_api.update,
        object_type,
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=str(object_id), properties=properties)
                for object_id, properties in updates.items()
            ]
        ),
    )
    outcome = BatchUpdateOutcome()
    outcome.updated = {str(obj.id) for obj in (response.results or [])} & set(updates)
    for error in getattr(response, "errors", None) or []:
        # Only the categories whose meaning is certain; any other leaves its ids unsettled,
        # and the caller's single update of each meets HubSpot's own answer.
        status = BATCH_ERROR_STATUS.get(str(error.category or ""))
        if status is None:
            continue
        ids = [str(i) for i in ((error.context or {}).get("ids") or [])]
        body = {"message": error.message or "", "category": error.category or ""}
        for object_id in ids:
            if object_id in updates and object_id not in outcome.updated:
                outcome.failed[object_id] = error_for_status(
                    status, body, f"{object_type[:-1]} {object_id}"
                )
    return outcome


def _engagement_associations(
    associate: dict[str, str], type_ids: dict[str, int]
) -> list[PublicAssociationsForObject]:
    """HubSpot-defined associations of a new engagement to records ({"deals": id, ...})."""
    return [
        PublicAssociationsForObject(
            to=PublicObjectId(id=str(object_id)),
            types=[
                AssociationSpec(
                    association_category="HUBSPOT_DEFINED",
                    association_type_id=type_ids[object_type],
                )
            ],
        )
        for object_type, object_id in associate.items()
    ]


def note_create(
    client: HubSpotClient,
    body_html: str,
    timestamp_ms: int,
    associate: dict[str, str],
    attachment_ids: list[str] | None = None,
) -> str:
    """Create a note associated to records ({"deals": id, ...}); returns the note id."""
    if len(body_html) > NOTE_BODY_MAX:
        body_html = body_html[: NOTE_BODY_MAX - 20] + "<p>(shortened)</p>"
    properties = {"hs_timestamp": str(timestamp_ms), "hs_note_body": body_html}
    if attachment_ids:
        properties["hs_attachment_ids"] = ";".join(attachment_ids)
    associations = _engagement_associations(associate, NOTE_ASSOCIATIONS)
    note = client.call(
        "note",
        "POST /crm/v3/objects/notes",
        lambda c: c.crm.objects.basic_api.create,
        "notes",
        SimplePublicObjectInputForCreate(properties=properties, associations=associations),
        idempotent=False,
    )
    return str(note.id)


def task_create(
    client: HubSpotClient,
    *,
    subject: str,
    body_html: str,
    due_ms: int,
    owner_id: str,
    associate: dict[str, str],
) -> str:
    """Create a to-do task (POST /crm/v3/objects/tasks; HubSpot's tasks guide: hs_timestamp is
    the due date, hs_task_status NOT_STARTED|COMPLETED, hs_task_type EMAIL|CALL|TODO, scope
    crm.objects.contacts.write). `owner_id` "" leaves it unassigned. Returns the task id."""
    properties = {
        "hs_timestamp": str(due_ms),
        "hs_task_subject": subject[:255],
        "hs_task_body": body_html[:NOTE_BODY_MAX],
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH",
        "hs_task_type": "TODO",
    }
    if owner_id:
        properties["hubspot_owner_id"] = str(owner_id)
    associations = _engagement_associations(associate, TASK_ASSOCIATIONS)
    task = client.call(
        "task",
        "POST /crm/v3/objects/tasks",
        lambda c: c.crm.objects.basic_api.create,
        "tasks",
        SimplePublicObjectInputForCreate(properties=properties, associations=associations),
        idempotent=False,
    )
    return str(task.id)


def record_tasks_read(client: HubSpotClient, object_type: str, object_id: str) -> dict[str, str]:
    """The tasks on a record, {task id: hs_task_body}: to find a task an earlier attempt may
    have created although its answer was lost (as record_notes_read does for notes)."""
    ids = record_associated_ids(client, object_type, object_id, "tasks")
    if not ids:
        return {}
    tasks = records_read(client, "tasks", ids, ["hs_task_body"])
    return {
        task_id: str(task.properties.get("hs_task_body") or "") for task_id, task in tasks.items()
    }


def deal_pipelines(client: HubSpotClient) -> list[dict[str, Any]]:
    """The portal's deal pipelines with their stages, in HubSpot's display order. A stage's
    `metadata` holds strings (`isClosed`, `probability`: hubspot-api.md §Pipelines)."""
    response = client.call(
        "deal pipelines",
        "GET /crm/v3/pipelines/deals",
        lambda c: c.crm.pipelines.pipelines_api.get_all,
        "deals",
    )
    return [
        {
            "id": p.id,
            "label": p.label,
            "stages": [
                {"id": s.id, "label": s.label, "metadata": dict(s.metadata or {})}
                for s in sorted(p.stages or [], key=lambda s: s.display_order or 0)
            ],
        }
        for p in sorted(response.results or [], key=lambda p: p.display_order or 0)
    ]


ASSOCIATIONS_PAGE_LIMIT = 500  # the v4 associations list's maximum page (SDK get_page docstring)
# HubSpot's file manager folder for the documents' PDFs.
PDF_FOLDER = "/Fortnox"


def record_associated_ids(
    client: HubSpotClient, object_type: str, object_id: str, to_object_type: str
) -> list[str]:
    """Ids of every `to_object_type` record associated to the record, all pages
    (GET /crm/v4/objects/{type}/{id}/associations/{toType}, hubspot-api.md §6)."""
    return list(record_association_types(client, object_type, object_id, to_object_type))


def record_association_types(
    client: HubSpotClient, object_type: str, object_id: str, to_object_type: str
) -> dict[str, list[int]]:
    """Every `to_object_type` record associated to the record, with the association type ids
    of each ({id: [type id, ...]}, e.g. a deal's primary company carries PRIMARY_DEAL_TO_COMPANY
    as well as the unlabeled DEAL_TO_COMPANY), all pages, in HubSpot's order."""
    found: dict[str, list[int]] = {}
    after: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": ASSOCIATIONS_PAGE_LIMIT}
        if after:
            kwargs["after"] = after
        page = client.call(
            f"{object_type[:-1]} {object_id}",
            f"GET /crm/v4/objects/{object_type}/{{id}}/associations/{to_object_type}",
            lambda c: c.crm.associations.v4.basic_api.get_page,
            object_type,
            object_id,
            to_object_type,
            **kwargs,
        )
        for item in page.results or []:
            found.setdefault(str(item.to_object_id), []).extend(
                int(spec.type_id) for spec in item.association_types or [] if spec.type_id
            )
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            return found


def record_notes_read(client: HubSpotClient, object_type: str, object_id: str) -> dict[str, str]:
    """The notes on a record, {note id: hs_note_body}: to find a note an earlier attempt may
    have stored although its answer was lost. Associations and batch reads see a new note at
    once; search would not (its index lags a few seconds, hubspot-api.md §10)."""
    ids = record_associated_ids(client, object_type, object_id, "notes")
    if not ids:
        return {}
    notes = records_read(client, "notes", ids, ["hs_note_body"])
    return {
        note_id: str(note.properties.get("hs_note_body") or "") for note_id, note in notes.items()
    }


def file_upload(
    client: HubSpotClient, file_name: str, content: bytes, folder_path: str = PDF_FOLDER
) -> dict[str, Any]:
    """Upload a private file, or get back the one already uploaded under this name in this
    folder (`duplicateValidationStrategy: RETURN_EXISTING`, scope EXACT_FOLDER, hubspot-api.md
    §6 Files). With a name unique to its purpose, repeating the upload is harmless, so the
    client may retry it like any idempotent call."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, file_name)
        with open(path, "wb") as fh:
            fh.write(content)
        uploaded = client.call(
            f"file {file_name}",
            "POST /files/v3/files",
            lambda c: c.files.files_api.upload,
            file=path,
            file_name=file_name,
            folder_path=folder_path,
            options=json.dumps(
                {
                    "access": "PRIVATE",
                    "overwrite": False,
                    "duplicateValidationStrategy": "RETURN_EXISTING",
                    "duplicateValidationScope": "EXACT_FOLDER",
                }
            ),
        )
    return {"id": str(uploaded.id), "url": uploaded.url}


def workflow_callback_complete(
    client: HubSpotClient, callback_id: str, output_fields: dict[str, str]
) -> None:
    """Finish a BLOCKed workflow action (POST /automation/v4/actions/callbacks/{id}/complete).
    A lost answer is raised, not retried at once: the caller (sync/deliveries/senders.py) then
    knows HubSpot may have completed the callback already, and reads a refusal of the repeat as
    "already completed"."""

    client.call(
        f"workflow callback {callback_id}",
        "POST /automation/v4/actions/callbacks/{id}/complete",
        lambda c: c.automation.actions.callbacks_api.complete,
        callback_id,
        CallbackCompletionRequest(output_fields=output_fields),
        idempotent=False,
    )


ACCOUNT_DETAILS_PATH = "/account-info/v3/details"


@dataclass(frozen=True)
class AccountDetails:
    company_currency: str
    time_zone: str
    # Where the portal's users open HubSpot ("app-eu1.hubspot.com" for an EU-hosted portal):
    # every link into HubSpot uses it (hubspot-api.md, third addendum §3).
    ui_domain: str = ""


def account_details_read(client: HubSpotClient) -> AccountDetails:
    """The portal's company currency and time zone (GET /account-info/v3/details, scope
    `oauth`; hubspot-api.md, third addendum §3). hubspot-api-client 12 has no API class for
    it, so the request goes through the SDK's generic API client (same host, token, timeout
    and errors as every other call)."""

    def details(sdk: Any):
        def send(**kwargs: Any) -> Any:
            return sdk.crm.objects.basic_api.api_client.call_api(
                ACCOUNT_DETAILS_PATH,
                "GET",
                header_params={"Accept": "application/json"},
                response_types_map={200: "object"},
                auth_settings=["oauth2"],
                _return_http_data_only=True,
                **kwargs,
            )

        return send

    body = client.call("account details", f"GET {ACCOUNT_DETAILS_PATH}", details) or {}
    return AccountDetails(
        company_currency=str(body.get("companyCurrency") or "").upper(),
        time_zone=str(body.get("timeZone") or ""),
        ui_domain=str(body.get("uiDomain") or ""),
    )


def record_url(ui_domain: str, hub_id: int, object_type_id: str, object_id: str) -> str:
    """A record's page in HubSpot's web app, e.g. a deal ("0-3"):
    https://app-eu1.hubspot.com/contacts/<hub>/record/0-3/<id> (HubSpot's record URL; the
    host is the portal's uiDomain)."""
    return f"https://{ui_domain}/contacts/{hub_id}/record/{object_type_id}/{object_id}"


# HubSpot's tax rate library (GET /tax-rates/v1/tax-rates/{taxRateGroupId}, scope
# `tax_rates.read`; developers.hubspot.com/docs/api-reference/legacy/account/settings/tax-rates/
# get-tax-rate). The SDK has no client for it, so the call goes through the SDK's generic
# `call_api`, which keeps the timeouts, retries and error mapping of every other call.
TAX_RATE_PATH = "/tax-rates/v1/tax-rates/{taxRateGroupId}"
TAX_RATES_SCOPE = "tax_rates.read"


def tax_rate_get(client: HubSpotClient, group_id: str) -> dict[str, Any]:
    """The tax rate group `group_id`: {"id", "name", "label", "percentageRate", "active"}."""

    def request(c: Any) -> Any:
        api_client = c.crm.objects.basic_api.api_client

        def send(_request_timeout: Any = None) -> Any:
            return api_client.call_api(
                TAX_RATE_PATH,
                "GET",
                path_params={"taxRateGroupId": group_id},
                header_params={"Accept": "application/json"},
                response_types_map={200: "object"},
                auth_settings=["oauth2"],
                _return_http_data_only=True,
                _request_timeout=_request_timeout,
            )

        return send

    result = client.call(f"tax rate {group_id}", f"GET {TAX_RATE_PATH}", request)
    return dict(result or {})
