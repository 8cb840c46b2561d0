"""What one attempt of a delivery carries between the machinery (sending.py) and the senders
(senders.py)."""

from __future__ import annotations

import time
from typing import Any

from django.utils import timezone

from integrations.calls import CallRecord
from integrations.errors import IntegrationError
from sync.models import Delivery
from sync.steps import run_step_call_record


class Attempt:
    """What one attempt saw of HubSpot and Fortnox: the last HTTP status, for the attempt row.
    Each call is also a step of the delivery's run, so the run's step log shows everything the
    run cost in both APIs, its note and properties included."""

    def __init__(self, delivery: Delivery | None = None) -> None:
        self.status: int | None = None
        self.started = time.monotonic()
        self.delivery = delivery

    def __call__(self, call: CallRecord) -> None:
        self.status = call.status
        delivery = self.delivery
        if delivery is not None and delivery.run_id:
            run_step_call_record(
                delivery.run_id,
                delivery.attempts,
                call,
                about=f"delivery {delivery.pk} ({delivery.kind})",
            )

    @property
    def duration_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


class Adopted(Exception):
    """An earlier attempt's send did land: take its result."""

    def __init__(self, result: dict[str, Any], why: str) -> None:
        super().__init__(why)
        self.result = result
        self.why = why


def result_save(delivery: Delivery, **values: Any) -> None:
    """Remember part of the outcome at once (the uploaded file), before the next step."""
    delivery.result = {**delivery.result, **values}
    Delivery.objects.filter(pk=delivery.pk).update(result=delivery.result)


def outcome_unknown_set(delivery: Delivery, unknown: bool) -> None:
    values: dict[str, Any] = {"outcome_unknown": unknown}
    if unknown:
        values["send_started_at"] = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(**values)
    delivery.outcome_unknown = unknown


def certainly_not_carried_out(exc: IntegrationError) -> bool:
    """HubSpot answered a 4xx (including 429): it refused the request, stored nothing. A 5xx or
    no answer at all leaves the outcome unknown."""
    return exc.status is not None and exc.status < 500
