"""Deal runs first (issue 15): a bulk sync's Fortnox calls reserve from a second, slower bucket
of the company as well as from the company's own, so at least half of the pace stays free for
deal runs and person-started syncs, and the two together never exceed the company's pace."""

from __future__ import annotations

import threading
import time
import uuid

from django.conf import settings

from integrations import ratelimit
from integrations.calls import ApiClient
from integrations.fortnox.client import FORTNOX_POLICY


class _Client(ApiClient):
    policy = FORTNOX_POLICY
    record_service = "fortnox"


def _calls_for(client: ApiClient, seconds: float, out: list[float]) -> None:
    """Call as fast as the buckets allow for `seconds`, recording when each call goes."""
    ends = time.monotonic() + seconds
    while True:
        wait = client._reserve()
        time.sleep(wait)
        now = time.monotonic()
        if now >= ends:
            return
        out.append(now)


def test_a_bulk_client_takes_at_most_its_share_and_deal_calls_get_the_rest(monkeypatch):
    monkeypatch.setattr(settings, "REDIS_URL", "")  # this process's buckets: a clean clock
    company = ratelimit.fortnox_key("client", f"company-{uuid.uuid4().hex}")
    bulk, deal = _Client(rate_key=company, observer=None), _Client(rate_key=company, observer=None)
    bulk.share_bucket = (ratelimit.bulk_key(company), ratelimit.FORTNOX_BULK_RATE)
    bulk_calls: list[float] = []
    deal_calls: list[float] = []
    seconds = 5.0
    threads = [
        threading.Thread(target=_calls_for, args=(bulk, seconds, bulk_calls)),
        threading.Thread(target=_calls_for, args=(deal, seconds, deal_calls)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    share, pace = ratelimit.FORTNOX_BULK_RATE, ratelimit.FORTNOX_RATE
    # The bulk client: its own burst, then 2 calls per second, however busy the company is.
    assert len(bulk_calls) <= share.burst + share.per_second * seconds + 1
    # Together: never beyond the company's 24 in 5 s (FORTNOX_RATE).
    assert len(bulk_calls) + len(deal_calls) <= pace.burst + pace.per_second * seconds + 1
    # The deal client keeps at least the other half of the pace.
    assert len(deal_calls) >= (pace.per_second - share.per_second) * seconds - 1


def test_without_a_bulk_client_deal_calls_get_the_whole_pace(monkeypatch):
    monkeypatch.setattr(settings, "REDIS_URL", "")
    company = ratelimit.fortnox_key("client", f"company-{uuid.uuid4().hex}")
    deal_calls: list[float] = []
    _calls_for(_Client(rate_key=company, observer=None), 3.0, deal_calls)
    pace = ratelimit.FORTNOX_RATE
    assert len(deal_calls) >= pace.burst + pace.per_second * 3.0 - 2
