"""Celery entry points of the sync: they take a run id, nothing else."""

from __future__ import annotations

import random

from celery import shared_task

from integrations.errors import IntegrationError
from sync.services import run_execute, run_fail

# Transient failures (429 storms, Fortnox or HubSpot outages) are retried with growing delays
# and jitter: 15 s, 30 s, 1 min, 2 min, 4 min, then every 5 min, about 40 minutes in all.
MAX_RETRIES = 12
RETRY_CAP_S = 300


def retry_countdown(retries: int) -> float:
    delay = min(RETRY_CAP_S, 15 * 2**retries)
    return delay * random.uniform(0.8, 1.2)


@shared_task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def run_execute_task(self, run_id: int) -> str:
    try:
        return run_execute(run_id).status
    except IntegrationError as exc:
        if self.request.retries >= MAX_RETRIES:
            run_fail(
                run_id,
                f"{exc.message} The app tried for about 40 minutes.",
                exc.fix or "Replay when the service is back.",
                code=exc.code,
                service_message=exc.service_message,
            )
            return "failed"
        raise self.retry(countdown=retry_countdown(self.request.retries)) from exc
