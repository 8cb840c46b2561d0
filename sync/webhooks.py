"""HubSpot webhook events: record each once, decide in the same transaction whether it starts a
run, enqueue after commit.

Events come in both shapes (hubspot-api.md Addendum §2): generic `object.propertyChange` with
`objectTypeId` ("0-3" is a deal), and legacy `deal.propertyChange` without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from integrations.models import HubSpotInstallation
from sync.finish import SkipReason, run_skip
from sync.models import Run, SubjectType, WebhookEvent
from sync.runs import run_create
from sync.selectors import pipeline_for_stage, runs_for_trigger, sync_settings_get

logger = logging.getLogger(__name__)

OBJECT_TYPE_IDS = {
    "0-1": "contact",
    "0-2": "company",
    "0-3": "deal",
    "0-7": "product",
    "0-8": "line_item",
}


class MalformedEvent(ValueError):
    pass


@dataclass(frozen=True)
class ParsedEvent:
    hub_id: int
    object_type: str
    object_id: str
    property_name: str
    property_value: str
    occurred_at_ms: int
    subscription_type: str
    event_id: int | None
    attempt_number: int


def parse_event(raw: Any) -> ParsedEvent:
    if not isinstance(raw, dict):
        raise MalformedEvent("an event is not a JSON object")
    try:
        subscription = str(raw["subscriptionType"])
        object_type = OBJECT_TYPE_IDS.get(str(raw.get("objectTypeId", "")), "")
        if not object_type:
            object_type = subscription.split(".", 1)[0] if "." in subscription else "unknown"
            object_type = "unknown" if object_type == "object" else object_type
        return ParsedEvent(
            hub_id=int(raw["portalId"]),
            object_type=object_type,
            object_id=str(raw["objectId"]),
            property_name=str(raw.get("propertyName") or ""),
            property_value=str(raw.get("propertyValue") or "")[:255],
            occurred_at_ms=int(raw["occurredAt"]),
            subscription_type=subscription,
            event_id=int(raw["eventId"]) if raw.get("eventId") is not None else None,
            attempt_number=int(raw.get("attemptNumber") or 0),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedEvent(f"an event lacks or garbles {exc}") from None


def _decide(event: ParsedEvent, installation: HubSpotInstallation | None) -> tuple[str, Run | None]:
    """(outcome, the run the event started or skipped). Runs inside the caller's transaction.

    What a stage change leads to (issue 12's table): a trigger stage of an added pipeline starts
    a run; reached again after its document exists, or while automatic creation is off, the run
    is recorded as skipped with a note (sync/finish.py says when); any other stage is ignored,
    and a portal that has added no pipeline yet is "not set up"."""
    if event.object_type != "deal" or event.property_name != "dealstage":
        return f"ignored: {event.object_type} {event.subscription_type} starts no run", None
    if installation is None or not installation.is_active:
        return "ignored: the app is not installed in this portal", None
    sync_settings = sync_settings_get(installation)
    pipelines = list(sync_settings.pipelines.all()) if sync_settings else []
    if not pipelines:
        return "not set up: no pipeline is added in the app's settings yet", None
    pipeline = pipeline_for_stage(pipelines, event.property_value)
    if pipeline is None:
        return "ignored: stage is not a trigger stage of an added pipeline", None
    subject = {
        "subject_type": SubjectType.DEAL,
        "subject_id": event.object_id,
        "kind": pipeline.document_type,
        "trigger_key": f"stage:{pipeline.pipeline_id}:{event.property_value}",
    }
    if not sync_settings.auto_create:
        run = run_skip(installation, **subject, reason=SkipReason.AUTO_CREATE_OFF)
        return f"skipped: automatic creation is off (run {run.pk})", run
    run = run_create(installation, trigger=Run.Trigger.STAGE, **subject)
    if run is not None:
        return f"triggered run {run.pk}", run
    live = runs_for_trigger(installation, **subject).filter(status__in=Run.LIVE_STATUSES).first()
    if live is not None and live.status == Run.Status.SUCCEEDED:
        run = run_skip(installation, **subject, reason=SkipReason.ALREADY_CREATED, done=live)
        return f"skipped: run {live.pk} already created the document (run {run.pk})", run
    return f"duplicate: run {live.pk if live else '?'} covers this trigger", None


def webhook_events_record(payload: Any) -> list[int]:
    """Record a delivery's events and start the runs they trigger; returns the run ids."""
    if not isinstance(payload, list):
        raise MalformedEvent("the body is not a JSON array of events")
    events = [parse_event(raw) for raw in payload]
    runs: list[Run] = []
    installations: dict[int, HubSpotInstallation | None] = {}
    with transaction.atomic():
        for event in events:
            if event.hub_id not in installations:
                installations[event.hub_id] = (
                    HubSpotInstallation.objects.select_related("sync_settings")
                    .filter(hub_id=event.hub_id)
                    .first()
                )
            try:
                with transaction.atomic():
                    record = WebhookEvent.objects.create(
                        hub_id=event.hub_id,
                        object_type=event.object_type,
                        object_id=event.object_id,
                        property_name=event.property_name,
                        property_value=event.property_value,
                        occurred_at_ms=event.occurred_at_ms,
                        subscription_type=event.subscription_type,
                        event_id=event.event_id,
                        attempt_number=event.attempt_number,
                    )
            except IntegrityError:
                continue  # the same change delivered again: already decided
            record.outcome, run = _decide(event, installations[event.hub_id])
            record.run = run
            record.save(update_fields=["outcome", "run"])
            if run is not None and run.status == Run.Status.QUEUED:
                runs.append(run)
        run_ids = [run.pk for run in runs]
    logger.info("webhook delivery recorded", extra={"events": len(events), "runs": run_ids})
    return run_ids
