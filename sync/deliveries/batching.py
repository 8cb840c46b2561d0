"""Record properties of several runs of one portal in one HubSpot call.

Every run ends with a delivery of its deal's Fortnox properties. When several of a portal are
waiting at the same time, the attempt of one of them (the leader) takes the others along
(companions) and sends them all in one batch update (up to 100 records: hubspot-api.md §6,
batch limits), instead of one PATCH each. Each delivery keeps its own row, attempts, backoff and
give-up reason: only the request is shared. A delivery of properties waits
PROPERTIES_BATCH_WINDOW_S before its first attempt, so that runs finishing close together land
in one call (PROPERTIES_BATCH_WINDOW_S is in specs.py, where deliveries are made).

A companion is taken only when its own attempt could have been made now: pending, not held by
another attempt, due (or never tried: it waits only for the window, never for a backoff), of
the same object type, with no newer delivery of its record (that one supersedes it at its own
attempt) and nothing older of its record still pending or being sent (deliveries of one record
land in order). One record appears once per batch: HubSpot refuses a batch naming an id twice.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.hubspot.crm import BATCH_SIZE
from sync.deliveries.specs import newer_deliveries
from sync.models import Delivery


def _older_of_same_record(delivery: Delivery, now) -> bool:
    """Another delivery of the record that must land first: one still pending from the same
    or an earlier run, or one being sent."""
    older = Q(sequence__lt=delivery.sequence) | Q(sequence=delivery.sequence, pk__lt=delivery.pk)
    return (
        Delivery.objects.filter(
            installation_id=delivery.installation_id, record_key=delivery.record_key
        )
        .filter(older)
        .filter(Q(status=Delivery.Status.PENDING) | Q(lease_until__gt=now))
        .exists()
    )


def properties_companions_lease(leader: Delivery, lease_until) -> list[Delivery]:
    """Lease, for the leader's attempt, the other deliveries of record properties of its portal
    that may go out in the same batch update (at most BATCH_SIZE - 1 of them)."""
    object_type = leader.payload.get("object_type", "")
    now = timezone.now()
    taken: list[Delivery] = []
    records = {leader.record_key}
    with transaction.atomic():
        candidates = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(
                installation_id=leader.installation_id,
                kind=Delivery.Kind.PROPERTIES,
                status=Delivery.Status.PENDING,
                record_key__startswith=f"{object_type}:",
            )
            .exclude(pk=leader.pk)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .filter(Q(attempts=0) | Q(next_attempt_at__lte=now))
            .order_by("sequence", "pk")[: BATCH_SIZE * 2]
        )
        for candidate in candidates:
            if len(taken) >= BATCH_SIZE - 1:
                break
            if candidate.record_key in records:
                continue
            if newer_deliveries(
                candidate.installation_id, candidate.record_key, candidate.sequence
            ).exists():
                continue  # its own attempt marks it superseded
            if _older_of_same_record(candidate, now):
                continue
            records.add(candidate.record_key)
            candidate.attempts += 1
            candidate.lease_until = lease_until
            candidate.save(update_fields=["attempts", "lease_until"])
            candidate.installation = leader.installation
            taken.append(candidate)
    return taken
