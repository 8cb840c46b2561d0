"""Measure the sandbox's throughput: python -m sandbox.fortnox.perf [--url URL] [--threads N]

Each thread uses a requests.Session (keep-alive on the client side) and cycles through tokens of
many registered clients, so Fortnox's per-(client, tenant) limit of 25 requests / 5 s is not
what is measured. Without --url a sandbox is started in this process on a free port.
"""

from __future__ import annotations

import argparse
import threading
import time

import requests


def run(url: str, threads: int, seconds: float, keys: int) -> tuple[int, int, float]:
    tokens = []
    for i in range(keys):
        cid = f"perf-client-{i}"
        requests.post(
            f"{url}/_sandbox/clients", json={"client_id": cid, "client_secret": "x"}, timeout=5
        )
        r = requests.post(
            f"{url}/_sandbox/tokens", json={"company": "1", "client_id": cid}, timeout=5
        )
        tokens.append(r.json()["access_token"])
    counts = [0] * threads
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        s = requests.Session()
        i = n
        while time.monotonic() < stop:
            token = tokens[i % len(tokens)]
            i += threads
            path = "/3/customers/1" if i % 2 else "/3/invoices/1"
            r = s.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            if r.status_code == 200:
                counts[n] += 1
            else:
                errors[n] += 1

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    start = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - start
    return sum(counts), sum(errors), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--keys", type=int, default=300)
    args = parser.parse_args()
    server = None
    url = args.url
    if not url:
        from sandbox.core.server import BackgroundServer
        from sandbox.fortnox.app import create_app

        server = BackgroundServer(create_app()).start()
        url = server.url
    ok, failed, elapsed = run(url.rstrip("/"), args.threads, args.seconds, args.keys)
    print(f"{ok} ok, {failed} not ok in {elapsed:.1f} s: {ok / elapsed:.0f} requests/s")
    if server:
        server.stop()


if __name__ == "__main__":
    main()
