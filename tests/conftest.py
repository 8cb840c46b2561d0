"""Fixtures shared by the whole suite: real processes (a Celery worker, a web server)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import requests
from django.conf import settings

from sandbox.core.server import BackgroundServer

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# Logs of the processes the suite starts (worker, browser-test server); one folder per shard
# when `make test` runs the suite in shards side by side (scripts/test_shards.py).
TEST_LOG_DIR = Path(os.environ.get("TEST_LOG_DIR") or ROOT / "var" / "test")
TEST_LOG_DIR.mkdir(parents=True, exist_ok=True)


def pytest_report_header(config: pytest.Config) -> str:
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "redis" if settings.REDIS_URL else "filesystem"
    return f"cloudify: database={engine} broker={broker}"


# The worker (a process of its own) may still be finishing what a test started (deciding its
# webhooks, a run, a delivery) when pytest-django empties the database after a transactional
# test: TRUNCATE then waits for the worker's row locks, and when the worker's next statement
# needs a lock the TRUNCATE took, PostgreSQL breaks the deadlock by failing the flush, which
# leaves the next test a database that was not emptied. The flush is tried again instead.
FLUSH_TRIES = 5


@pytest.fixture(scope="session", autouse=True)
def _flush_tried_again_after_a_deadlock() -> Iterator[None]:
    from django.core.management.base import CommandError
    from django.core.management.commands import flush

    original = flush.Command.handle

    def handle(self, **options):
        for attempt in range(1, FLUSH_TRIES + 1):
            try:
                return original(self, **options)
            except CommandError as exc:
                if attempt == FLUSH_TRIES or "deadlock detected" not in str(exc.__cause__):
                    raise
                time.sleep(0.5 * attempt)
        return None

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(**overrides: str) -> dict[str, str]:
    """The environment of this test process, for a child process of the service."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "cloudify.settings.test"
    env["PYTHONPATH"] = str(ROOT)
    env.update(overrides)
    return env


def gunicorn_command(bind: str, *options: str) -> list[str]:
    """The production web server as the image starts it (gunicorn.conf.py), one worker."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        bind,
        "--workers",
        "1",
        *options,
        "cloudify.wsgi:application",
    ]


def wait_for_http(url: str, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers. A probe that times out means "not up yet", like a refused one:
    gunicorn's master listens before its worker has imported Django, so on a busy machine the
    first probes wait in the listen backlog for longer than their own timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def test_database_url() -> str:
    """The URL of the database pytest-django created (test_<name>), for child processes."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture(scope="session")
def service_database_url(django_db_setup, django_db_blocker) -> str:
    """The suite's test database, for service processes a test starts itself: the database
    named by DATABASE_URL need not exist (pytest-django made test_<name> beside it)."""
    with django_db_blocker.unblock():
        return test_database_url()


def worker_start(
    log_name: str, queues: list[str], *, concurrency: int = 4, **env: str
) -> tuple[subprocess.Popen, IO[str]]:
    """A worker process as production runs it: the threads pool (cloudify/settings/celery.py),
    consuming `queues`, in the environment of service_env(**env), logging to <log_name>.log."""
    log = open(TEST_LOG_DIR / f"{log_name}.log", "w")  # noqa: SIM115 (closed by worker_stop)
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "cloudify",
            "worker",
            "--loglevel",
            "INFO",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{log_name}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--queues",
            ",".join(queues),
        ],
        cwd=ROOT,
        env=service_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc, log


def worker_stop(proc: subprocess.Popen, log: IO[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup, django_db_blocker, live_server, fortnox_server, hubspot_server
) -> Iterator[subprocess.Popen]:
    """A real worker process on the suite's broker (Redis in CI), consuming every queue, on the
    test database, talking to the session's sandboxes, with the live server as the public
    origin (Replay links). Tests that let it see their rows use django_db(transaction=True)."""
    from cloudify.celery import app
    from cloudify.tasks import worker_ping

    with django_db_blocker.unblock():
        database_url = test_database_url()
    # Tasks left by an earlier run of the suite would name rows that no longer exist.
    with app.connection_for_write() as conn:
        for queue in settings.CELERY_QUEUES_ALL:
            # A queue that was never declared has nothing to purge.
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue)
    proc, log = worker_start(
        "worker",
        list(settings.CELERY_QUEUES_ALL),
        DATABASE_URL=database_url,
        PUBLIC_BASE_URL=live_server.url,
        HUBSPOT_API_BASE=hubspot_server.url,
        HUBSPOT_APP_BASE=hubspot_server.url,
        FORTNOX_API_BASE=fortnox_server.url,
        FORTNOX_AUTH_BASE=fortnox_server.url,
    )
    worker_ping.apply_async().get(timeout=60)  # ready: it consumes the broker
    yield proc
    worker_stop(proc, log)


# The simulators run on free ports in this process and are reached over real HTTP.


@pytest.fixture(scope="session")
def fortnox_server():
    from sandbox.fortnox.app import create_app

    server = BackgroundServer(create_app()).start()
    yield server
    server.stop()


@pytest.fixture
def fortnox_url(fortnox_server) -> str:
    """A freshly reset Fortnox sandbox for each test."""
    import requests

    requests.post(f"{fortnox_server.url}/_sandbox/reset", timeout=5).raise_for_status()
    return fortnox_server.url


@pytest.fixture(scope="session")
def hubspot_server():
    from sandbox.hubspot.app import create_app

    server = BackgroundServer(create_app()).start()
    yield server
    server.stop()


@pytest.fixture
def hubspot_url(hubspot_server) -> str:
    """A freshly reset HubSpot sandbox for each test."""
    import requests

    requests.post(f"{hubspot_server.url}/_sandbox/reset", timeout=5).raise_for_status()
    return hubspot_server.url


@pytest.fixture
def world(settings, live_server, fortnox_url, hubspot_url):
    """The service (a live server) wired to both freshly reset sandboxes."""
    from tests.flows import World

    settings.PUBLIC_BASE_URL = live_server.url
    settings.HUBSPOT_API_BASE = hubspot_url
    settings.HUBSPOT_APP_BASE = hubspot_url
    settings.FORTNOX_API_BASE = fortnox_url
    settings.FORTNOX_AUTH_BASE = fortnox_url
    # Every end-to-end test starts without plans, as after the flush that ends each transactional
    # test: the data migration's plans (Free, 10 documents a month, the default) exist only
    # until the first flush, so a test's quota must not depend on whether it ran first. Then the
    # quota is BILLING_FALLBACK_QUOTA, unless the test gives its portal a plan.
    from billing.models import Plan

    Plan.objects.all().delete()
    world = World(app=live_server.url, hubspot=hubspot_url, fortnox=fortnox_url)
    world.app_configure()
    yield world
    # HubSpot delivers the webhooks of what a test created a moment later. Let those in flight
    # land before the test database is emptied: a delivery writing while the flush truncates
    # can deadlock it (and the next test then starts on a database that was not emptied).
    with contextlib.suppress(requests.RequestException):
        requests.post(f"{hubspot_url}/_sandbox/webhooks/drain", json={"timeout": 3}, timeout=10)
