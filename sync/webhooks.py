"""HubSpot webhook events: store each once and answer; a worker then decides, in the portal's
event order, whether it starts a run (webhook_events_decide).

Events come in both shapes (hubspot-api.md Addendum §2): generic `object.propertyChange` with
`objectTypeId` ("0-3" is a deal), and legacy `deal.propertyChange` without it. Each is checked
by sync.serializers.WebhookEventSerializer; what fails is recorded as an InboundRejection with
the reason, and the rest of the delivery goes on.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from integrations.models import FortnoxConnection, HubSpotInstallation
from sync.customers import customer_value_in_step
from sync.finish import SkipReason, run_skip
from sync.mapping import mappings_for
from sync.models import (
    CustomerMapping,
    InboundRejection,
    Run,
    RunKind,
    SubjectType,
    WebhookEvent,
)
from sync.privacy import PRIVACY_DELETION, personal_data_privacy_deletion
from sync.rejections import inbound_rejection_record
from sync.runs import run_create
from sync.selectors import pipeline_for_stage, runs_for_trigger, sync_settings_get
from sync.serializers import (
    BIGINT_MAX,
    INTEGER_MAX,
    OBJECT_TYPE_ID,
    PROPERTY_VALUE_MAX_CHARS,
    SUBSCRIPTION_TYPE,
    WEBHOOK_EVENTS_MAX,
    UnusableBody,
    WebhookEventSerializer,
    errors_text,
    id_at,
    strict_json_loads,
)

logger = logging.getLogger(__name__)

OBJECT_TYPE_IDS = {
    "0-1": "contact",
    "0-2": "company",
    "0-3": "deal",
    "0-7": "product",
    "0-8": "line_item",
}
PROPERTY_VALUE_KEPT_CHARS = WebhookEvent._meta.get_field("property_value").max_length
# An event's outcome until it is decided (every decision names one).
UNDECIDED = WebhookEvent.UNDECIDED
# The task that decides a portal's stored events (sync/tasks.py), sent by name: the tasks module
# imports this one.
DECIDE_TASK = "sync.tasks.webhook_events_decide_task"
# Events decided per transaction: an erasure or a run per event holds the rows' locks meanwhile.
DECIDE_BATCH = 100
# An event still undecided this long after it was stored is taken for lost (its publish failed,
# its worker died): the sweep sends its portal again. Well past a decide task's usual wait.
DECIDE_OVERDUE = timedelta(minutes=1)


class MalformedEvent(ValueError):
    """Why one event cannot be used: each bad field and why."""


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
    """The event as recorded, or MalformedEvent naming each unusable field and why."""
    event = _well_formed(raw)
    if event is not None:
        return event
    serializer = WebhookEventSerializer(data=raw)
    if not serializer.is_valid():
        raise MalformedEvent(errors_text(serializer.errors))
    data = serializer.validated_data
    subscription = data.get("subscriptionType") or data["eventType"]
    object_type = OBJECT_TYPE_IDS.get(data.get("objectTypeId", ""), "")
    if not object_type:
        object_type = subscription.split(".", 1)[0]
        object_type = "unknown" if object_type == "object" else object_type
    return ParsedEvent(
        hub_id=data["portalId"],
        object_type=object_type,
        object_id=str(data["objectId"]),
        property_name=data.get("propertyName", ""),
        # Only stage ids matter to the decision; a long text value (a product description)
        # is kept in part rather than refusing the event.
        property_value=(data.get("propertyValue") or "")[:PROPERTY_VALUE_KEPT_CHARS],
        occurred_at_ms=data["occurredAt"],
        subscription_type=subscription,
        event_id=data.get("eventId"),
        attempt_number=data.get("attemptNumber", 0),
    )


# Characters PostgreSQL cannot store in text, which DRF's CharField refuses (NUL, lone surrogates).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")  # as WholeNumberField: [0-9], never \d


def _whole(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if low <= number <= high else None


def _text(value: Any, max_chars: int) -> bool:
    return isinstance(value, str) and len(value) <= max_chars and not _UNSTORABLE.search(value)


def _well_formed(raw: Any) -> ParsedEvent | None:
    """The event when every field it carries is plainly valid (nearly every event HubSpot
    sends), checked without building a DRF serializer, which costs about a millisecond per event
    on the acknowledgement (bench `ack`); None for anything else, which WebhookEventSerializer
    then accepts or rejects with its messages. Accepts a subset of what the serializer accepts,
    with the same result (tests/sync/test_webhook_receiver.py)."""
    if not isinstance(raw, dict):
        return None
    hub_id = _whole(raw.get("portalId"), 1, BIGINT_MAX)
    object_id = _whole(raw.get("objectId"), 1, BIGINT_MAX)
    occurred = _whole(raw.get("occurredAt"), 0, BIGINT_MAX)
    if hub_id is None or object_id is None or occurred is None:
        return None
    for name in ("subscriptionType", "eventType"):
        if name in raw and not (_text(raw[name], 60) and SUBSCRIPTION_TYPE.fullmatch(raw[name])):
            return None
    subscription = raw.get("subscriptionType") or raw.get("eventType")
    if not subscription:
        return None
    type_id = raw.get("objectTypeId")
    if "objectTypeId" in raw and not (_text(type_id, 30) and OBJECT_TYPE_ID.fullmatch(type_id)):
        return None
    property_name = raw.get("propertyName", "")
    property_value = raw.get("propertyValue")
    if not _text(property_name, 100):
        return None
    if property_value is not None and not _text(property_value, PROPERTY_VALUE_MAX_CHARS):
        return None
    event_id = raw.get("eventId")
    if "eventId" in raw and (event_id := _whole(event_id, 1, BIGINT_MAX)) is None:
        return None
    attempt = raw.get("attemptNumber", 0)
    if (attempt := _whole(attempt, 0, INTEGER_MAX)) is None:
        return None
    object_type = OBJECT_TYPE_IDS.get(type_id or "", "")
    if not object_type:
        object_type = subscription.split(".", 1)[0]
        object_type = "unknown" if object_type == "object" else object_type
    return ParsedEvent(
        hub_id=hub_id,
        object_type=object_type,
        object_id=str(object_id),
        property_name=property_name,
        property_value=(property_value or "")[:PROPERTY_VALUE_KEPT_CHARS],
        occurred_at_ms=occurred,
        subscription_type=subscription,
        event_id=event_id,
        attempt_number=attempt,
    )


Outcome = tuple[str, Run | None]  # what an event led to, and the run it started or skipped
# A decision: an outcome reached by reading alone, or the action that reaches it (starting or
# skipping a run, erasing personal data), taken only once the event is stored as new.
Decision = Outcome | Callable[[], Outcome]


def _decide(event: ParsedEvent, installation: HubSpotInstallation | None) -> Decision:
    """(outcome, the run the event started or skipped), or the action that gives it. Runs
    inside the decider's transaction (webhook_events_decide), on an event stored once, so a
    change HubSpot sends again never acts twice.

    What a stage change leads to (issue 12's table): a trigger stage of an added pipeline starts
    a run; reached again after its document exists, or while automatic creation is off, the run
    is recorded as skipped with a note (sync/finish.py says when); any other stage is ignored,
    and a portal that has added no pipeline yet is "not set up"."""
    if event.subscription_type == PRIVACY_DELETION:  # a contact erased under GDPR
        return lambda: (
            personal_data_privacy_deletion(event.hub_id, event.object_id, installation),
            None,
        )
    if event.object_type == "product":
        return _product_decide(event, installation)
    if event.object_type in ("company", "contact"):
        return _customer_decide(event, installation)
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
        return lambda: _auto_create_off(installation, subject)
    return lambda: _stage_run(installation, subject)


def _auto_create_off(installation: HubSpotInstallation, subject: dict[str, str]) -> Outcome:
    run = run_skip(installation, **subject, reason=SkipReason.AUTO_CREATE_OFF)
    return f"skipped: automatic creation is off (run {run.pk})", run


def _stage_run(installation: HubSpotInstallation, subject: dict[str, str]) -> Outcome:
    run = run_create(installation, trigger=Run.Trigger.STAGE, **subject)
    if run is not None:
        return f"triggered run {run.pk}", run
    live = runs_for_trigger(installation, **subject).filter(status__in=Run.LIVE_STATUSES).first()
    if live is not None and live.status == Run.Status.SUCCEEDED:
        run = run_skip(installation, **subject, reason=SkipReason.ALREADY_CREATED, done=live)
        return f"skipped: run {live.pk} already created the document (run {run.pk})", run
    return f"duplicate: run {live.pk if live else '?'} covers this trigger", None


# The product events that start a product sync: created, changed (the subscribed properties),
# archived (moved to the recycling bin: `deletion`) and restored (`restore`), in the generic
# (`object.*`) and the legacy (`product.*`) shapes.
PRODUCT_EVENT_KINDS = ("creation", "propertyChange", "deletion", "restore")


def _product_decide(event: ParsedEvent, installation: HubSpotInstallation | None) -> Decision:
    """A product change → a product sync run (trigger change), when the portal syncs products."""
    kind = event.subscription_type.split(".", 1)[-1]
    if kind not in PRODUCT_EVENT_KINDS:
        return f"ignored: product {event.subscription_type} starts no run", None
    if installation is None or not installation.is_active:
        return "ignored: the app is not installed in this portal", None
    sync_settings = sync_settings_get(installation)
    if sync_settings is None or not sync_settings.product_sync:
        return "ignored: product sync is off in the app's settings (Products tab)", None
    if _connected_company(installation) is None:
        return "ignored: product sync is on, but Fortnox is not connected", None
    return partial(_change_run, installation, event, SubjectType.PRODUCT, RunKind.PRODUCT_SYNC)


def _connected_company(installation: HubSpotInstallation) -> str | None:
    """The database number of the portal's active Fortnox connection (as
    `active_fortnox_connection`), read without the connection's row and tokens: most events are
    decided by reading alone, and a burst's decisions are many."""
    return (
        installation.fortnox_connections.exclude(status=FortnoxConnection.Status.DISCONNECTED)
        .values_list("database_number", flat=True)
        .first()
    )


def _customer_decide(event: ParsedEvent, installation: HubSpotInstallation | None) -> Decision:
    """A change to a contact or company that already is a Fortnox customer of the connected
    company → a customer sync (trigger change), which sends Fortnox the fields that changed.
    A record that is no customer yet is left alone: most of a HubSpot register is prospects, and
    a Fortnox customer number, once used, stays reserved (fortnox-api.md code 2000637); it
    becomes a customer through a deal, the workflow action, the card or a bulk sync."""
    if event.subscription_type.split(".", 1)[-1] != "propertyChange":
        return f"ignored: {event.object_type} {event.subscription_type} starts no run", None
    if installation is None or not installation.is_active:
        return "ignored: the app is not installed in this portal", None
    database_number = _connected_company(installation)
    if database_number is None:
        return "ignored: Fortnox is not connected", None
    subject_type = SubjectType.COMPANY if event.object_type == "company" else SubjectType.CONTACT
    mapping = (
        CustomerMapping.objects.filter(
            installation=installation,
            fortnox_database_number=database_number,
            hubspot_object_type=subject_type,
            hubspot_object_id=event.object_id,
        )
        .only("fortnox_customer_number", "fields_fingerprint")
        .first()
    )
    if mapping is None:
        return f"ignored: this {event.object_type} is not a Fortnox customer yet", None
    sync_settings = sync_settings_get(installation)
    if len(event.property_value) < PROPERTY_VALUE_KEPT_CHARS and customer_value_in_step(
        mappings_for(sync_settings.field_mappings if sync_settings else None),
        subject_type,
        mapping.fields_fingerprint,
        event.property_name,
        event.property_value,
    ):
        return (
            f"ignored: Fortnox customer {mapping.fortnox_customer_number} already has this value",
            None,
        )
    return partial(_change_run, installation, event, subject_type, RunKind.CUSTOMER_SYNC)


def _change_run(
    installation: HubSpotInstallation, event: ParsedEvent, subject_type: str, kind: str
) -> Outcome:
    """A sync run for a record HubSpot says changed (trigger change).

    Bursts are coalesced per record: while a change run for the record is queued and has not
    started (it has read nothing yet), further events join it, since it will read the record as
    it is then; a change after it started gets a run of its own, which reads fresh data."""
    subject = {"subject_type": subject_type, "subject_id": event.object_id, "kind": kind}
    waiting = (
        Run.objects.select_for_update()
        .filter(
            installation=installation,
            trigger=Run.Trigger.CHANGE,
            status=Run.Status.QUEUED,
            attempts=0,
            **subject,
        )
        .order_by("pk")
        .first()
    )
    if waiting is not None:
        return f"coalesced into run {waiting.pk}", waiting
    run = run_create(
        installation,
        trigger=Run.Trigger.CHANGE,
        trigger_key=f"change:{event.occurred_at_ms}:{event.event_id or 0}",
        **subject,
    )
    if run is None:
        return "duplicate: a run covers this change", None
    return f"triggered run {run.pk}", run


# The columns of WebhookEvent's unique constraint `webhook_event_dedupe`: one row per change.
DEDUPE_FIELDS = (
    "hub_id",
    "object_type",
    "object_id",
    "property_name",
    "property_value",
    "occurred_at_ms",
)
INSERTED_FIELDS = (
    *DEDUPE_FIELDS,
    "subscription_type",
    "event_id",
    "attempt_number",
    "received_at",
    "outcome",
)


def _dedupe_key(event: ParsedEvent) -> tuple:
    return tuple(getattr(event, name) for name in DEDUPE_FIELDS)


def _events_insert(events: list[ParsedEvent]) -> list[int]:
    """Stores a delivery's events in one INSERT, undecided; answers the portals of the rows it
    added. A change already stored (a delivery HubSpot sent again, or the same change twice in
    one delivery) adds no row: `ON CONFLICT DO NOTHING` on the dedupe constraint, so two
    deliveries racing store it once and it is decided once. One statement instead of a
    savepoint, an INSERT and a release per event keeps the acknowledgement short (bench
    scenario `ack`)."""
    if not events:
        return []
    meta = WebhookEvent._meta
    quote = connection.ops.quote_name
    inserted = ", ".join(quote(meta.get_field(f).column) for f in INSERTED_FIELDS)
    keys = ", ".join(quote(meta.get_field(f).column) for f in DEDUPE_FIELDS)
    row = "(" + ", ".join(["%s"] * len(INSERTED_FIELDS)) + ")"
    received_at = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = []
    for event in events:
        params += [
            *_dedupe_key(event),
            event.subscription_type,
            event.event_id,
            event.attempt_number,
            received_at,
            UNDECIDED,
        ]
    # Only the model's own table and column names are formatted in; every value is a parameter.
    values = ", ".join([row] * len(events))
    sql = f"INSERT INTO {quote(meta.db_table)} ({inserted}) VALUES {values} "  # noqa: S608
    sql += f"ON CONFLICT ({keys}) DO NOTHING RETURNING {quote(meta.get_field('hub_id').column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted({found[0] for found in cursor.fetchall()})


def events_decide_send(hub_ids: list[int]) -> None:
    """Send each portal's decide task once the current transaction commits. ignore_result: nobody
    waits for it (as sync/dispatch.py runs_send). robust: a publish that fails (the broker down,
    the process ending) must not turn an acknowledged, stored delivery into an error answer;
    the events wait, undecided, for the sweep (webhook_events_sweep)."""
    if not hub_ids:
        return

    def send() -> None:
        for hub_id in hub_ids:
            current_app.send_task(DECIDE_TASK, args=[hub_id], ignore_result=True)

    transaction.on_commit(send, robust=True)


@dataclass(frozen=True)
class DeliveryOutcome:
    rejected: list[str] = field(default_factory=list)  # the reasons, for the HTTP answer


def webhook_delivery_record(body: bytes) -> DeliveryOutcome:
    """Record a signed delivery: its usable events, undecided, everything else as rejected.

    A delivery unusable as a whole (not JSON, not an array, over HubSpot's 100 events) is one
    rejection; inside a usable one, each bad event is a rejection and the others go on.
    """
    try:
        payload = strict_json_loads(body)
    except UnusableBody as exc:
        return _delivery_reject(str(exc), body)
    if not isinstance(payload, list):
        return _delivery_reject("the body is not a JSON array of events", body)
    if len(payload) > WEBHOOK_EVENTS_MAX:
        return _delivery_reject(
            f"the body holds {len(payload)} events; HubSpot sends at most {WEBHOOK_EVENTS_MAX}",
            body,
        )
    return webhook_events_record(payload)


def _delivery_reject(reason: str, body: bytes) -> DeliveryOutcome:
    inbound_rejection_record(InboundRejection.Kind.WEBHOOK_DELIVERY, reason, body)
    return DeliveryOutcome(rejected=[reason])


def webhook_events_record(payload: list[Any]) -> DeliveryOutcome:
    """Store a delivery's usable events, undecided, and hand their decision to a worker; a
    malformed event is recorded as rejected with its reason and the others are stored.

    The answer costs only the parsing, one INSERT, the commit and one publish per portal (bench
    scenarios `ack`, `ackload`): what an event leads to (a run, a skip, an erasure) is decided
    by webhook_events_decide, in a worker, in the portal's event order. Nothing acknowledged is
    lost: the rows are committed before the answer, and the sweep decides what a lost publish
    left undecided."""
    events: list[ParsedEvent] = []
    rejected: list[tuple[int, Any, str]] = []
    for index, raw in enumerate(payload):
        try:
            events.append(parse_event(raw))
        except MalformedEvent as exc:
            rejected.append((index, raw, str(exc)))
    with transaction.atomic():
        for index, raw, reason in rejected:
            inbound_rejection_record(
                InboundRejection.Kind.WEBHOOK_EVENT,
                reason,
                raw,
                hub_id=id_at(raw, "portalId"),
                event_index=index,
            )
        portals = _events_insert(events)
        events_decide_send(portals)
    logger.info(
        "webhook delivery recorded",
        extra={"events": len(events), "rejected": len(rejected), "portals": portals},
    )
    return DeliveryOutcome(
        rejected=[f"event {index}: {reason}" for index, _raw, reason in rejected]
    )


def _parsed(row: WebhookEvent) -> ParsedEvent:
    return ParsedEvent(
        hub_id=row.hub_id,
        object_type=row.object_type,
        object_id=row.object_id,
        property_name=row.property_name,
        property_value=row.property_value,
        occurred_at_ms=row.occurred_at_ms,
        subscription_type=row.subscription_type,
        event_id=row.event_id,
        attempt_number=row.attempt_number,
    )


def webhook_events_decide(hub_id: int) -> int:
    """Decide the portal's undecided events, in the order they happened (occurredAt, then the
    order they were stored); returns how many this call decided.

    Each batch is taken under row locks (SELECT ... FOR UPDATE, in order) and decided in one
    transaction with what it starts, so two deciders of a portal (a task and the sweep's, or a
    task sent twice) never decide an event twice: the second waits for the first's rows, and
    PostgreSQL then finds them decided and passes them by. An erasure changes what the
    portal's later events read, so each event is decided after the one before it acted. A
    worker dying mid-batch rolls it back whole; the sweep sends the portal again."""
    decided_count = 0
    while True:
        with transaction.atomic():
            batch = list(
                WebhookEvent.objects.select_for_update()
                .filter(hub_id=hub_id, outcome=UNDECIDED)
                .order_by("occurred_at_ms", "pk")[:DECIDE_BATCH]
            )
            if not batch:
                return decided_count
            installation = (
                HubSpotInstallation.objects.select_related("sync_settings")
                .defer("access_token", "refresh_token")  # decrypted on load; no decision needs them
                .filter(hub_id=hub_id)
                .first()
            )
            decided: dict[tuple[str, int | None], list[int]] = defaultdict(list)
            for row in batch:
                outcome, run = _decided(row, installation)
                decided[(outcome, run.pk if run else None)].append(row.pk)
            # One plain UPDATE per distinct outcome (most batches: a few), not a CASE per row.
            for (outcome, run_id), pks in decided.items():
                WebhookEvent.objects.filter(pk__in=pks).update(outcome=outcome, run_id=run_id)
            decided_count += len(batch)
        logger.info("webhook events decided", extra={"hub_id": hub_id, "events": len(batch)})


def _decided(row: WebhookEvent, installation) -> tuple[str, Run | None]:
    """One event's outcome and the run it started, in a savepoint of the batch. A database
    error (a deadlock, a lost connection) rolls the whole batch back to be decided again; any
    other error is a defect in deciding this event: it is recorded as the event's outcome and
    logged as an ERROR, so it cannot hold back the portal's later events, which a retry every
    minute would (HubSpot, told 2xx, does not send the event again)."""
    try:
        with transaction.atomic():
            decision = _decide(_parsed(row), installation)
            return decision if isinstance(decision, tuple) else decision()
    except DatabaseError:
        raise
    except Exception as exc:
        logger.exception(
            "webhook event could not be decided",
            extra={"hub_id": row.hub_id, "event": row.pk, "event_id": row.event_id},
        )
        return f"error: could not be decided ({type(exc).__name__}); see the logs"[:255], None


def webhook_events_sweep(now: datetime | None = None) -> dict[str, int]:
    """Send again the decide task of each portal that has an event left undecided longer than
    DECIDE_OVERDUE (a publish lost, a worker that died); returns how many portals were sent.
    A portal sent twice is safe: webhook_events_decide decides each event once."""
    now = now or timezone.now()
    portals = list(
        WebhookEvent.objects.filter(outcome=UNDECIDED, received_at__lt=now - DECIDE_OVERDUE)
        .values_list("hub_id", flat=True)
        .distinct()[:1000]
    )
    with transaction.atomic():
        events_decide_send(portals)
    if portals:
        logger.warning("webhook events sent again", extra={"portals": len(portals)})
    return {"portals": len(portals)}
