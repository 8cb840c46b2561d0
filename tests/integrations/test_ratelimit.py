"""Pacing: the bucket hands out slots so no 5-second window exceeds Fortnox's 25 calls, and
each bucket is the one the service counts in (Fortnox: client and company; HubSpot: app and
portal)."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from integrations import ratelimit
from integrations.fortnox.client import FortnoxClient
from integrations.hubspot import crm
from integrations.hubspot.client import HubSpotClient
from tests.flows import FORTNOX_COMPANY, FORTNOX_NO_ORDER_COMPANY, HUB, OTHER_HUB


def _schedule(n: int, rate: ratelimit.Rate) -> list[float]:
    """When each of n back-to-back calls may go, relative to the first reservation."""
    key = f"test-{uuid.uuid4().hex}"
    return [ratelimit.reserve(key, rate) for _ in range(n)]


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_back_to_back_calls_never_exceed_fortnox_window(backend, monkeypatch):
    if backend == "redis" and not settings.REDIS_URL:
        pytest.skip("no Redis in this run (make test uses Redis when it answers)")
    if backend == "local":
        monkeypatch.setattr(settings, "REDIS_URL", "")
    waits = _schedule(60, ratelimit.FORTNOX_RATE)
    assert waits[: ratelimit.FORTNOX_RATE.burst] == [0] * ratelimit.FORTNOX_RATE.burst
    # Count the calls falling in any 5-second window starting at a call.
    for start in waits:
        in_window = sum(1 for t in waits if start <= t < start + 5)
        assert in_window <= 24
    # And the pacing is not wastefully slow: 60 calls fit in about 14 s at 4/s.
    assert 13 <= max(waits) <= 14.5


def test_bucket_keys_name_what_the_service_counts_in():
    assert ratelimit.fortnox_key("client", "1000001") != ratelimit.fortnox_key("client", "1000002")
    assert ratelimit.fortnox_key("client", "1000001") != ratelimit.fortnox_key("other", "1000001")
    assert ratelimit.hubspot_key(1001, HUB) != ratelimit.hubspot_key(1001, OTHER_HUB)
    assert ratelimit.hubspot_key(1001, HUB) != ratelimit.hubspot_key(1002, HUB)


# -- the buckets the clients pace in ---------------------------------------------------------------
@pytest.fixture
def fresh_buckets(settings, monkeypatch):
    """Empty in-process buckets, so earlier tests' calls cannot make these wait."""
    settings.REDIS_URL = ""
    monkeypatch.setattr(ratelimit, "_local", ratelimit._LocalBuckets())


def _interleaved_waits(calls_each: int, *calls) -> list[int]:
    """Make `calls_each` calls through each caller in turn; every call's rate-limit wait (ms)."""
    waits: list[int] = []
    for _ in range(calls_each):
        for call in calls:
            waits.extend(call())
    return waits


def _fortnox_caller(connection):
    records = []
    client = FortnoxClient(connection, observer=records.append)

    def call() -> list[int]:
        records.clear()
        client.company_information()
        return [r.waited_ms for r in records]

    return call


def _hubspot_caller(installation):
    records = []
    client = HubSpotClient(installation, observer=records.append)

    def call() -> list[int]:
        records.clear()
        crm.deal_pipelines(client)
        return [r.waited_ms for r in records]

    return call


@pytest.mark.django_db
def test_two_fortnox_companies_get_separate_buckets(connection_make, fresh_buckets):
    first = connection_make(HUB, FORTNOX_COMPANY)
    second = connection_make(OTHER_HUB, FORTNOX_NO_ORDER_COMPANY)
    assert first.database_number != second.database_number

    # A full burst each, interleaved: in one shared bucket half of them would wait.
    waits = _interleaved_waits(
        ratelimit.FORTNOX_RATE.burst, _fortnox_caller(first), _fortnox_caller(second)
    )

    assert waits == [0] * 2 * ratelimit.FORTNOX_RATE.burst


@pytest.mark.django_db
def test_one_fortnox_company_connected_to_two_portals_shares_its_bucket(
    connection_make, fresh_buckets
):
    # Fortnox counts per client id and company, whichever portal the token was issued for.
    first = connection_make(HUB, FORTNOX_COMPANY)
    second = connection_make(OTHER_HUB, FORTNOX_COMPANY)
    assert first.access_token != second.access_token

    waits = _interleaved_waits(
        ratelimit.FORTNOX_RATE.burst, _fortnox_caller(first), _fortnox_caller(second)
    )

    assert waits[: ratelimit.FORTNOX_RATE.burst] == [0] * ratelimit.FORTNOX_RATE.burst
    assert any(wait > 0 for wait in waits[ratelimit.FORTNOX_RATE.burst :])


@pytest.mark.django_db
def test_hubspot_portals_get_separate_buckets(installation_make, fresh_buckets):
    first, second = installation_make(HUB), installation_make(OTHER_HUB)

    waits = _interleaved_waits(
        ratelimit.HUBSPOT_RATE.burst, _hubspot_caller(first), _hubspot_caller(second)
    )

    assert waits == [0] * 2 * ratelimit.HUBSPOT_RATE.burst
    # The same number of calls from one portal does wait: the check above could fail.
    again = _interleaved_waits(
        ratelimit.HUBSPOT_RATE.burst, _hubspot_caller(first), _hubspot_caller(first)
    )
    assert any(wait > 0 for wait in again)
