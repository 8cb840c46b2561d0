"""Operational tasks of the service itself."""

from __future__ import annotations

import os
import socket

from celery import shared_task


@shared_task(name="cloudify.tasks.worker_ping", ignore_result=False)
def worker_ping() -> dict[str, object]:
    """Answers from a worker process: proves a worker consumes the broker (see /readyz)."""
    return {"worker": socket.gethostname(), "pid": os.getpid()}
