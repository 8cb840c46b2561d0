"""Personal data in the run history, and when it goes.

A run keeps what it read from HubSpot (`Run.data_read`) and messages that may quote it (its error
texts, its steps' messages: "Created Fortnox customer 5 (Kund AB)"); a webhook event keeps the
value a property changed to. Support needs that for a while; after that it is data the service
has no reason to hold (GDPR art. 5(1)(e), storage limitation). A scrub removes names, e-mails,
addresses, phone numbers and free text and keeps the audit row: ids, status, times, amounts,
document and customer numbers, error codes. Three things scrub:

- age: runs finished and events received more than PERSONAL_DATA_RETENTION_DAYS ago
  (`personal_data_scrub_expired`, daily by beat);
- HubSpot's `contact.privacyDeletion` event (hubspot-api.md §3.1): that contact's runs, the events
  about it and its customer mapping, at once (`personal_data_privacy_deletion`, from the webhook
  receiver);
- an uninstall: UNINSTALL_SCRUB_DAYS after HubSpot refused the portal's tokens, all its runs and
  events are scrubbed and its Fortnox tokens revoked (`personal_data_scrub_uninstalled`, daily).
  HubSpot sends no uninstall event and an uninstalled portal sends nothing at all, so the daily
  task first asks HubSpot about portals the service has not heard from in a week
  (`hubspot_quiet_installations_check`): without that, the grace period of a portal uninstalled
  between two deals would never start.

Every scrub stamps `personal_data_scrubbed_at` and is safe to repeat. Messages are replaced
whole rather than searched for names: what a vendor's error text quotes cannot be known.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from integrations.models import HubSpotInstallation

# Moving to portals/services.py (issue 12): import it from there once that lands.
from sync.models import CustomerMapping, Delivery, Run, RunStep, WebhookEvent

logger = logging.getLogger(__name__)

# What a scrubbed message reads: support sees that something was said and why it is gone.
REMOVED = "(removed: personal data)"
# HubSpot's hub event for a contact deleted under GDPR (hubspot-api.md §3.1, §3.2 hubEvents).
PRIVACY_DELETION = "contact.privacyDeletion"

# Rows updated per transaction, and per pass of the daily task: a pass stays well inside the
# task's time limit, and the task sends itself again while a backlog remains.
ROWS_PER_BATCH = 500
ROWS_PER_PASS = 20_000

# What survives in data_read, per section (sync/document_run.py writes it; the HubSpot property
# names are sync/reader.py's): ids, amounts, quantities, rates, codes and dates. Anything else,
# including a section or a property not named here (a mapped custom property, say), goes.
DATA_READ_KEPT: dict[str, frozenset[str]] = {
    "deal": frozenset(
        {
            "hs_object_id",
            "amount",
            "deal_currency_code",
            "closedate",
            "pipeline",
            "dealstage",
            "fortnox_document_number",
        }
    ),
    "line_items": frozenset(
        {
            "hs_object_id",
            "hs_product_id",
            "hs_sku",
            "quantity",
            "price",
            "amount",
            "discount",
            "hs_discount_percentage",
            "hs_tax_rate",
            "hs_line_item_currency_code",
        }
    ),
    "customer": frozenset({"type", "id"}),
    "outcome": frozenset({"total", "total_vat", "row_count", "created_articles"}),
}
RUN_TEXT_FIELDS = ("error_message", "error_fix", "service_message")
# Event values that are ids or amounts, never about a person: kept as the audit of what
# triggered a run. Contact and company values (e-mail, name, address...) always go.
EVENT_VALUES_KEPT = frozenset(
    {
        ("deal", "dealstage"),
        ("deal", "pipeline"),
        ("deal", "amount"),
        ("product", "price"),
        ("product", "hs_sku"),
    }
)


@dataclass
class ScrubReport:
    """What one pass did; `more` asks the daily task to send itself again."""

    runs: int = 0
    events: int = 0
    fortnox_connections: int = 0
    uninstalls_found: int = 0
    more: bool = False  # the pass stopped at a limit: send the task again

    def __add__(self, other: ScrubReport) -> ScrubReport:
        return ScrubReport(
            self.runs + other.runs,
            self.events + other.events,
            self.fortnox_connections + other.fortnox_connections,
            self.uninstalls_found + other.uninstalls_found,
            self.more or other.more,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- what a scrubbed row keeps -------------------------------------------------------------------
def data_read_scrubbed(data_read: Any) -> dict[str, Any]:
    """A run's data_read reduced to the ids and amounts of DATA_READ_KEPT."""
    if not isinstance(data_read, dict):
        return {}
    kept: dict[str, Any] = {}
    for section, keys in DATA_READ_KEPT.items():
        value = data_read.get(section)
        if isinstance(value, dict):
            kept[section] = _keep(value, keys)
        elif isinstance(value, list):
            kept[section] = [_keep(item, keys) for item in value if isinstance(item, dict)]
    return kept


def _keep(values: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key in keys and _plain(value)}


def _plain(value: Any) -> bool:
    """A number, an id or a list of them (article numbers); never a nested record."""
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


# -- scrubbing rows ---------------------------------------------------------------------------
def _in_batches(
    rows: QuerySet, limit: int | None, scrub: Callable[[list[int]], None]
) -> tuple[int, bool]:
    """Scrub `rows` in batches by id, each in its own transaction; (rows scrubbed, whether the
    limit stopped it). Batches go by id, so a row the filter still matches is never taken
    twice."""
    done, after = 0, 0
    while limit is None or done < limit:
        ids = list(
            rows.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:ROWS_PER_BATCH]
        )
        if not ids:
            return done, False
        after = ids[-1]
        with transaction.atomic():
            scrub(ids)
        done += len(ids)
    return done, True


def runs_scrub(runs: QuerySet[Run], now: datetime, limit: int | None) -> tuple[int, bool]:
    """Scrub `runs`, their steps and their sent deliveries."""

    def scrub(ids: list[int]) -> None:
        locked = list(Run.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        for run in locked:
            run.data_read = data_read_scrubbed(run.data_read)
            for name in RUN_TEXT_FIELDS:
                if getattr(run, name):
                    setattr(run, name, REMOVED)
            run.personal_data_scrubbed_at = now
        # Only these fields: a run still executing keeps its status, attempts and lease.
        Run.objects.bulk_update(
            locked, ["data_read", *RUN_TEXT_FIELDS, "personal_data_scrubbed_at"]
        )
        RunStep.objects.filter(run_id__in=ids).exclude(message__in=("", REMOVED)).update(
            message=REMOVED
        )
        _deliveries_scrub(ids)

    return _in_batches(runs, limit, scrub)


# What a sent delivery keeps of its payload: where it went, never what the note or the workflow
# output said (the customer's name, the error text that quotes the deal's data).
DELIVERY_PAYLOAD_KEPT = frozenset(
    {"object_type", "object_id", "template", "marker", "pdf", "callback_id", "properties"}
)


def _deliveries_scrub(run_ids: list[int]) -> None:
    """The payloads of the runs' deliveries once sent (or given up); a pending one still needs
    its data to be sent, and is scrubbed by a later pass."""
    finished = Delivery.objects.filter(run_id__in=run_ids).exclude(status=Delivery.Status.PENDING)
    for delivery in finished.only("pk", "payload"):
        payload = delivery.payload or {}
        kept = {key: value for key, value in payload.items() if key in DELIVERY_PAYLOAD_KEPT}
        if kept != delivery.payload:
            Delivery.objects.filter(pk=delivery.pk).update(payload=kept)


def _events_kept_q() -> Q:
    q = Q(pk__in=[])
    for object_type, property_name in EVENT_VALUES_KEPT:
        q |= Q(object_type=object_type, property_name=property_name)
    return q


def events_scrub(
    events: QuerySet[WebhookEvent], now: datetime, limit: int | None
) -> tuple[int, bool]:
    """Empty the changed values of `events`, but for ids and amounts (EVENT_VALUES_KEPT)."""

    def scrub(ids: list[int]) -> None:
        batch = WebhookEvent.objects.filter(pk__in=ids)
        try:
            with transaction.atomic():
                batch.exclude(_events_kept_q()).exclude(property_value="").update(property_value="")
        except IntegrityError:
            _events_scrub_one_by_one(batch.exclude(_events_kept_q()))
        batch.update(personal_data_scrubbed_at=now)

    return _in_batches(events, limit, scrub)


def _events_scrub_one_by_one(events: QuerySet[WebhookEvent]) -> None:
    """The value is part of the deduplication key (WebhookEvent.Meta): two events that differ
    only by it would collide once both are empty. Such a pair keeps distinct markers."""
    for event in events.exclude(property_value=""):
        try:
            with transaction.atomic():
                WebhookEvent.objects.filter(pk=event.pk).update(property_value="")
        except IntegrityError:
            WebhookEvent.objects.filter(pk=event.pk).update(property_value=f"{REMOVED} {event.pk}")


# -- the three triggers -------------------------------------------------------------------------
def personal_data_scrub_expired(now: datetime, *, limit: int = ROWS_PER_PASS) -> ScrubReport:
    """Runs finished, and events received, more than PERSONAL_DATA_RETENTION_DAYS before `now`.

    Also runs scrubbed before they finished: a privacy deletion scrubs a contact's runs at once,
    and one executing at that moment may have written what it read after the scrub."""
    cutoff = now - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
    runs = Run.objects.filter(
        Q(personal_data_scrubbed_at__isnull=True)
        & (Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff))
        # finished_at <= now: a run stamped at `now` leaves this set, whatever the clocks say.
        | Q(personal_data_scrubbed_at__lt=F("finished_at"), finished_at__lte=now)
    )
    run_count, runs_more = runs_scrub(runs, now, limit)
    events = WebhookEvent.objects.filter(
        personal_data_scrubbed_at__isnull=True, received_at__lt=cutoff
    )
    event_count, events_more = events_scrub(events, now, limit)
    result = ScrubReport(runs=run_count, events=event_count, more=runs_more or events_more)
    if run_count or event_count:
        logger.info("personal data past retention scrubbed", extra=result.as_dict())
    return result


def contact_runs(installation: HubSpotInstallation, contact_id: str) -> QuerySet[Run]:
    """The runs whose customer was this HubSpot contact. The one place that knows where a run
    records its customer: a deal run's data_read["customer"], saved right after the deal is read
    and before anything that could quote the contact (sync/document_run.py), and kept by a
    scrub; a customer sync's subject is the contact itself (sync/customer_sync.py)."""
    return Run.objects.filter(
        Q(data_read__customer__type="contacts", data_read__customer__id=str(contact_id))
        | Q(subject_type="contacts", subject_id=str(contact_id)),
        installation=installation,
    )


def personal_data_scrub_contact(
    installation: HubSpotInstallation, contact_id: str, *, now: datetime | None = None
) -> ScrubReport:
    """HubSpot deleted this contact for privacy: scrub its runs and the events about it, and
    forget which Fortnox customer it was. (The customer in Fortnox stays: the company's invoices
    name it and are its bookkeeping, kept seven years under Bokföringslagen 7 kap. 2 §.)"""
    now = now or timezone.now()
    contact_id = str(contact_id)
    with transaction.atomic():
        run_count, _ = runs_scrub(contact_runs(installation, contact_id), now, None)
        events = WebhookEvent.objects.filter(
            hub_id=installation.hub_id, object_type="contact", object_id=contact_id
        )
        event_count, _ = events_scrub(events, now, None)
        CustomerMapping.objects.filter(
            installation=installation, hubspot_object_type="contacts", hubspot_object_id=contact_id
        ).delete()
    result = ScrubReport(runs=run_count, events=event_count)
    logger.info(
        "contact's personal data scrubbed (privacy deletion)",
        extra={"portal": installation.hub_id, "contact": contact_id, **result.as_dict()},
    )
    return result


def personal_data_privacy_deletion(
    hub_id: int, contact_id: str, installation: HubSpotInstallation | None
) -> str:
    """The webhook receiver's handling of `contact.privacyDeletion`; returns the event's outcome.
    The portal's events are scrubbed even when the app is no longer installed there."""
    if installation is None:
        events = WebhookEvent.objects.filter(
            hub_id=hub_id, object_type="contact", object_id=str(contact_id)
        )
        event_count, _ = events_scrub(events, timezone.now(), None)
        return f"privacy deletion of contact {contact_id}: scrubbed 0 runs, {event_count} events"
    result = personal_data_scrub_contact(installation, contact_id)
    return (
        f"privacy deletion of contact {contact_id}: scrubbed {result.runs} runs, "
        f"{result.events} events"
    )
