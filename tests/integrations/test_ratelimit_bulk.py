"""Deal runs first (issue 15): a bulk sync's Fortnox calls reserve from a second, smaller log of
the company as well as from the company's own, so at least half of the pace stays free for deal
runs and person-started syncs, and the two together never exceed the company's pace."""

from __future__ import annotations

import threading
import time
import uuid

from django.conf import settings

from integrations import ratelimit
from integrations.calls import ApiClient
from integrations.fortnox.client import FORTNOX_POLICY
from tests.integrations.test_ratelimit import FakeClock, _most_in_any_window


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
    # The bulk client: 2 calls in any second, however busy the company is.
    assert len(bulk_calls) <= share.limit * (seconds / share.window_s + 1)
    # Together: never beyond the company's 24 in 5.2 s (FORTNOX_RATE).
    assert len(bulk_calls) + len(deal_calls) <= pace.limit
    # The deal client keeps at least the other half of the pace.
    assert len(deal_calls) >= pace.limit / 2


def test_without_a_bulk_client_deal_calls_get_the_whole_pace(monkeypatch):
    monkeypatch.setattr(settings, "REDIS_URL", "")
    company = ratelimit.fortnox_key("client", f"company-{uuid.uuid4().hex}")
    deal_calls: list[float] = []
    _calls_for(_Client(rate_key=company, observer=None), 3.0, deal_calls)
    # The company's whole allowance of one window, at once.
    assert len(deal_calls) == ratelimit.FORTNOX_RATE.limit


def test_a_greedy_bulk_sync_leaves_deal_runs_half_of_every_window():
    """Both callers always ready, over a minute of a fake clock: the bulk sync never takes more
    than its 2 calls a second, the deal runs get the rest, and together they use the pace."""
    clock = FakeClock()
    logs = ratelimit._LocalLogs(clock)
    pace, share = ratelimit.FORTNOX_RATE, ratelimit.FORTNOX_BULK_RATE
    ready = {"bulk": clock.now, "deal": clock.now + 0.001}  # the bulk sync asks first
    shared = False  # has the bulk caller had its share's slot (ApiClient._reserve: first)?
    calls: dict[str, list[float]] = {"bulk": [], "deal": []}
    share_slots: list[float] = []
    end = clock.now + 60
    while min(ready.values()) < end:
        who = min(ready, key=ready.get)
        clock.now = ready[who]
        if who == "bulk" and not shared:
            ready[who], shared = logs.reserve_slot("company:bulk", share, 30.0)[1], True
            share_slots.append(ready[who])
            continue
        if who == "bulk":
            shared = False
        slot = logs.reserve_slot("company", pace, 30.0)[1]
        if slot < end:
            calls[who].append(slot)
        ready[who] = slot + 0.2  # the call's answer, then the next call

    every = calls["bulk"] + calls["deal"]
    assert _most_in_any_window(every, pace.window_s) <= pace.limit
    assert _most_in_any_window(share_slots, 1.0) <= share.limit
    assert _most_in_any_window(calls["bulk"], pace.window_s) <= pace.limit / 2
    assert len(every) >= 0.92 * 25 / 5 * 60  # the company's pace is used in full
    assert len(calls["deal"]) >= len(every) / 2
    assert len(calls["bulk"]) >= 60 / 2  # and the bulk sync still moves
