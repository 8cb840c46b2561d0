"""A task enqueued from a request runs in a real worker process (Redis in CI)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_readyz_worker_check_round_trips_through_a_real_worker(client, celery_worker_process):
    response = client.get("/readyz?worker=1")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "worker": "ok"}
    assert celery_worker_process.poll() is None
