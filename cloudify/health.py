"""Liveness and readiness probes.

/healthz: the process answers. /readyz: the database and the broker answer (503 naming the
failing part otherwise); with ?worker=1 it also has a worker answer a ping task, which is how
`make run` and the tests prove the whole chain request → broker → worker works.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from kombu import Connection

from cloudify.tasks import worker_ping

logger = logging.getLogger(__name__)

BROKER_CHECK_TIMEOUT_S = 3
WORKER_PING_TIMEOUT_S = 10


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None


def _check_broker() -> str | None:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=BROKER_CHECK_TIMEOUT_S,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_CHECK_TIMEOUT_S)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_worker() -> str | None:
    started = time.monotonic()
    try:
        worker_ping.apply_async().get(timeout=WORKER_PING_TIMEOUT_S)
    except Exception as exc:
        return f"no worker answered within {WORKER_PING_TIMEOUT_S}s ({type(exc).__name__})"
    logger.info("worker answered ping", extra={"seconds": round(time.monotonic() - started, 3)})
    return None


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    if request.GET.get("worker") in ("1", "true") and checks["broker"] is None:
        checks["worker"] = _check_worker()
    failing = [name for name, problem in checks.items() if problem]
    body = {
        "status": "ok" if not failing else "unavailable",
        "checks": {name: (problem or "ok") for name, problem in checks.items()},
    }
    if failing:
        body["failing"] = failing
        logger.warning("not ready: %s", ", ".join(failing))
    return JsonResponse(body, status=503 if failing else 200)
