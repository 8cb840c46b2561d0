"""Deadlines: no call to HubSpot or Fortnox outlives the run attempt's lease, in any worker pool.

The run engine wraps each attempt in `with deadline(...)`; here the adapters are driven
directly against the sandboxes (real HTTP), and against a stand-in that sends Retry-After (the
sandboxes never do: Fortnox's 429 carries none as far as anyone recorded)."""

from __future__ import annotations

import datetime
import json
import time
import uuid

import pytest
import requests
from django.utils import timezone

from integrations import calls
from integrations.calls import RETRY_AFTER_MAX_S, retry_after_seconds
from integrations.deadline import MIN_REQUEST_S, deadline, time_left, timeout_bounded
from integrations.errors import DeadlineExceeded
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.errors import FortnoxOutcomeUnknown
from integrations.hubspot import crm
from integrations.hubspot.client import HubSpotClient
from integrations.models import FortnoxConnection, HubSpotInstallation
from sandbox.core.server import BackgroundServer
from tests.integrations.conftest import sandbox_requests

pytestmark = pytest.mark.django_db

SLOW_MS = 8000  # the sandbox's answer time in the slow tests: far past their deadlines
DEADLINE_S = 3.0
SLACK_S = 1.5  # what the tests allow past a deadline (connection set-up, a loaded machine)


def _in(seconds: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


# -- the contextvar -------------------------------------------------------------------------------
def test_without_a_deadline_nothing_is_cut():
    assert time_left() is None
    assert timeout_bounded((5, 30)) == (5, 30)


def test_nested_deadlines_keep_the_earlier_and_end_with_their_block():
    with deadline(_in(60)):
        with deadline(_in(600)):
            assert 0 < time_left() <= 60
        with deadline(_in(10)):
            assert 0 < time_left() <= 10
            connect, read = timeout_bounded((5, 30))
            assert connect == 5 and 0 < read <= 10
        assert 10 < time_left() <= 60
    assert time_left() is None


def test_a_naive_datetime_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="timezone-aware"), deadline(datetime.datetime.now()):
        pass  # pragma: no cover


# -- nothing is sent past the deadline -------------------------------------------------------------
@pytest.mark.parametrize("left", [-1.0, MIN_REQUEST_S / 2])
def test_a_fortnox_call_without_time_for_an_answer_sends_nothing(connection_make, sandboxes, left):
    connection = connection_make()
    requests.delete(f"{sandboxes.FORTNOX_API_BASE}/_sandbox/requests", timeout=10)

    with deadline(_in(left)), pytest.raises(DeadlineExceeded) as caught:
        FortnoxClient(connection).company_information()

    assert caught.value.transient
    assert caught.value.message == (
        "The attempt ran out of time before calling Fortnox; the app tries again."
    )
    assert sandbox_requests(sandboxes.FORTNOX_API_BASE) == []


def test_an_expired_token_is_not_refreshed_past_the_deadline(connection_make, sandboxes):
    connection = connection_make()
    FortnoxConnection.objects.filter(pk=connection.pk).update(access_token_expires_at=_in(-60))
    requests.delete(f"{sandboxes.FORTNOX_API_BASE}/_sandbox/requests", timeout=10)

    with deadline(_in(-1)), pytest.raises(DeadlineExceeded):
        FortnoxClient(connection).company_information()

    assert sandbox_requests(sandboxes.FORTNOX_API_BASE) == []  # no /oauth-v1/token either
    connection.refresh_from_db()
    assert connection.status == "connected"


def test_a_hubspot_call_past_its_deadline_sends_nothing(installation_make, sandboxes):
    installation = installation_make()
    requests.delete(f"{sandboxes.HUBSPOT_API_BASE}/_sandbox/requests", timeout=10)

    with deadline(_in(-1)), pytest.raises(DeadlineExceeded) as caught:
        crm.deal_pipelines(HubSpotClient(installation))

    assert caught.value.message == (
        "The attempt ran out of time before calling HubSpot; the app tries again."
    )
    assert sandbox_requests(sandboxes.HUBSPOT_API_BASE) == []


# -- a slow answer ends at the deadline ----------------------------------------------------------
def _slow(base: str) -> None:
    requests.post(
        f"{base}/_sandbox/faults/latency", json={"min_ms": SLOW_MS, "max_ms": SLOW_MS}, timeout=10
    ).raise_for_status()


def test_a_slow_fortnox_ends_the_call_near_the_deadline(connection_make, sandboxes, recorder):
    connection = connection_make()
    _slow(sandboxes.FORTNOX_API_BASE)
    started = time.monotonic()

    with deadline(_in(DEADLINE_S)), pytest.raises(DeadlineExceeded) as caught:
        FortnoxClient(connection, observer=recorder).company_information()

    assert time.monotonic() - started < DEADLINE_S + SLACK_S
    assert caught.value.transient
    assert "ran out of time waiting for Fortnox" in caught.value.message
    # One attempt, cut by its read timeout; no second one that could not have finished.
    assert [(r.status, r.error) for r in recorder] == [(None, "ReadTimeout")]


def test_a_create_cut_by_the_deadline_is_reported_as_unknown(connection_make, sandboxes):
    # The request reached Fortnox: it may be carried out, so the run looks it up before trying
    # again (FortnoxOutcomeUnknown), rather than create it twice.
    connection = connection_make()
    _slow(sandboxes.FORTNOX_API_BASE)
    started = time.monotonic()

    with deadline(_in(DEADLINE_S)), pytest.raises(FortnoxOutcomeUnknown) as caught:
        FortnoxClient(connection).customer_create({"Name": "Slow AB"})

    assert time.monotonic() - started < DEADLINE_S + SLACK_S
    assert caught.value.transient


def test_a_slow_hubspot_ends_the_call_near_the_deadline(installation_make, sandboxes, recorder):
    installation = installation_make()
    _slow(sandboxes.HUBSPOT_API_BASE)
    started = time.monotonic()

    with deadline(_in(DEADLINE_S)), pytest.raises(DeadlineExceeded) as caught:
        crm.deal_pipelines(HubSpotClient(installation, observer=recorder))

    assert time.monotonic() - started < DEADLINE_S + SLACK_S
    assert "ran out of time waiting for HubSpot" in caught.value.message
    # The SDK's own urllib3 retries are off: one attempt, one timeout.
    assert [(r.status, r.error) for r in recorder] == [(None, "ReadTimeoutError")]


# -- Retry-After ---------------------------------------------------------------------------------
def test_retry_after_is_read_as_seconds_or_a_date_and_capped():
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds("3600") == RETRY_AFTER_MAX_S
    in_ten = timezone.now() + datetime.timedelta(seconds=10)
    assert 8 <= retry_after_seconds(in_ten.strftime("%a, %d %b %Y %H:%M:%S GMT")) <= 10
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


class StandInFortnox:
    """Answers the first request 429 with a Retry-After, every later one 200."""

    def __init__(self, retry_after: str) -> None:
        self.retry_after = retry_after
        self.hits: list[float] = []

    def __call__(self, environ, start_response):
        self.hits.append(time.monotonic())
        if len(self.hits) == 1:
            start_response(
                "429 Too Many Requests",
                [("Content-Type", "application/json"), ("Retry-After", self.retry_after)],
            )
            return [b'{"message":"Too Many Requests"}']
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"CompanyInformation": {"CompanyName": "Stand-in AB"}}).encode()]


@pytest.fixture
def stand_in(settings):
    servers: list[BackgroundServer] = []

    def start(retry_after: str) -> tuple[StandInFortnox, FortnoxClient]:
        app = StandInFortnox(retry_after)
        server = BackgroundServer(app).start()
        servers.append(server)
        settings.FORTNOX_API_BASE = server.url
        installation = HubSpotInstallation.objects.create(hub_id=9100001)
        connection = FortnoxConnection(
            installation=installation, database_number=uuid.uuid4().hex[:32]
        )
        connection.store_tokens("access", "refresh", 3600)
        connection.save()
        return app, FortnoxClient(connection)

    yield start
    for server in servers:
        server.stop()


def test_retry_after_is_honoured(stand_in):
    app, client = stand_in("1")

    assert client.company_information()["CompanyName"] == "Stand-in AB"
    assert len(app.hits) == 2
    assert app.hits[1] - app.hits[0] >= 1.0


def test_a_retry_after_longer_than_the_cap_waits_only_the_cap(stand_in, monkeypatch):
    monkeypatch.setattr(calls, "RETRY_AFTER_MAX_S", 0.5)  # so the test does not wait 30 s
    app, client = stand_in("3600")

    # The deadline only keeps a broken cap from hanging the suite for an hour.
    with deadline(_in(20)):
        assert client.company_information()["CompanyName"] == "Stand-in AB"
    assert len(app.hits) == 2
    assert app.hits[1] - app.hits[0] >= 0.5


def test_a_retry_after_past_the_deadline_ends_the_call_at_once(stand_in):
    app, client = stand_in("3600")
    started = time.monotonic()

    with deadline(_in(10)), pytest.raises(DeadlineExceeded) as caught:
        client.company_information()

    assert len(app.hits) == 1
    assert time.monotonic() - started < 10  # it did not sleep into the deadline
    assert "waiting for Fortnox" in caught.value.message
    assert "limiting" in caught.value.service_message  # the 429 it gave up on
