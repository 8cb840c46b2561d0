"""The worker's peak memory under the bench's burst, on a database and Redis db of your choice.

`make bench` always uses the database cloudify_bench and Redis db 3; this runs its burst scenario
(bench/run.py, unchanged) elsewhere, so it can run beside another bench, and with the pool given:

    .venv/bin/python scripts/worker_memory.py --db cloudify_mine --redis-db 10 --pool threads

It prints the bench's tables; "worker_peak_rss_mb" is the resident memory of the worker's whole
process tree (main process and pool children, sampled every 0.5 s), at the bench's concurrency.
The database given is dropped and created again.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="PostgreSQL database (dropped, created)")
    parser.add_argument("--redis-db", type=int, required=True, help="Redis database number")
    parser.add_argument("--pool", default=None, help="Celery pool (default: the settings')")
    parser.add_argument("--deals", type=int, default=None, help="deals in the burst")
    parser.add_argument("--concurrency", type=int, default=None, help="default: the bench's")
    args = parser.parse_args()

    from bench import run as bench
    from scripts import processes

    bench.DB_NAME = args.db
    bench.DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    bench.REDIS_URL = f"redis://127.0.0.1:6379/{args.redis_db}"
    bench.VAR = ROOT / "var" / f"bench-{args.db}"
    bench.RESULTS = bench.VAR / "results"
    bench.ENV = bench.ENV | {
        "DATABASE_URL": bench.DATABASE_URL,
        "REDIS_URL": bench.REDIS_URL,
        "VAR_DIR": str(bench.VAR),
    }
    if args.concurrency:
        bench.DEFAULT_WORKERS = args.concurrency

    def worker_command(concurrency: int, loglevel: str) -> list[str]:
        # Given twice, Celery's last --pool wins.
        extra = ["--pool", args.pool] if args.pool else []
        return processes.worker_command(concurrency, loglevel) + extra

    bench.worker_command = worker_command
    if args.deals:
        original = bench.burst

        def burst(stack, tenant, deals, quiet):
            return original(stack, tenant, args.deals, quiet)

        bench.burst = burst
    tenants_create = bench.tenants_create

    def tenants_unlimited(stack, count, first_hub):
        # The Free plan's 10 documents a month would fail most of a burst (billing/services.py).
        from billing.models import Plan

        Plan.objects.update(monthly_quota=10**7)
        return tenants_create(stack, count, first_hub)

    bench.tenants_create = tenants_unlimited
    os.environ["QUICK"] = "1"
    os.environ["ONLY"] = "burst"
    sys.argv = [sys.argv[0]]
    return bench.main()


if __name__ == "__main__":
    sys.exit(main())
