"""`make test` on PostgreSQL and Redis: the suite in three shards side by side, each on its own
test database, Redis database and log folder, so the end-to-end tests' waits (workers, sandboxes,
HubSpot's and Fortnox's paces) overlap. Each shard's output is printed whole when it ends; the
exit status is the first failing shard's. `make test PYTEST_ARGS=...` runs one pytest instead.

Usage: python scripts/test_shards.py [pytest args for both shards]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTEST = str(Path(sys.executable).parent / "pytest")
# The first shard takes the run engine's tests (the longest waits) but the syncs of issue 15
# (the bulk sync's 200 companies alone wait about two minutes on Fortnox's pace) and the call
# counts, pacing and worker tests of issue 18, which the second takes; the third everything
# else. Balanced by their times on PostgreSQL.
FIRST = ["tests/sync"]
SECOND = [
    "tests/sync/test_bulk_sync_e2e.py",
    "tests/sync/test_bulk_dispatch.py",
    "tests/sync/test_product_sync_e2e.py",
    "tests/sync/test_customer_workflow_e2e.py",
    "tests/sync/test_customer_replay_e2e.py",
    "tests/sync/test_customer_sync_e2e.py",
    "tests/sync/test_fortnox_calls_e2e.py",
    "tests/sync/test_hubspot_calls_e2e.py",
    "tests/sync/test_pacing_e2e.py",
    "tests/sync/test_lease_e2e.py",
    "tests/sync/test_worker_threads_e2e.py",
]


def shard_urls(index: int) -> dict[str, str]:
    """Shard 0 keeps DATABASE_URL/REDIS_URL; shard n gets database <name>_shard<n> (its test
    database test_<name>_shard<n>) and the next Redis database numbers."""
    database, redis = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    if index == 0:
        return {"DATABASE_URL": database, "REDIS_URL": redis}
    parts = urlsplit(database)
    database = urlunsplit(parts._replace(path=f"{parts.path}_shard{index}"))
    parts = urlsplit(redis)
    number = int(parts.path.strip("/") or 0) + index
    return {"DATABASE_URL": database, "REDIS_URL": urlunsplit(parts._replace(path=f"/{number}"))}


def main(extra: list[str]) -> int:
    others = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").iterdir()
        if (path.is_dir() and (path / "__init__.py").exists() or path.name.startswith("test_"))
        and str(path.relative_to(ROOT)) not in FIRST
    )
    shards = [FIRST + [f"--ignore={path}" for path in SECOND], SECOND, others]
    running = []
    for index, paths in enumerate(shards):
        output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (read and closed below)
        env = {
            **os.environ,
            **shard_urls(index),
            "TEST_LOG_DIR": str(ROOT / "var" / "test" / f"shard{index}"),
        }
        command = [PYTEST, "-p", "no:cacheprovider", *extra, *paths]
        print(f"shard {index}: {' '.join(paths)}", flush=True)
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        running.append((index, process, output))
    started = time.monotonic()
    status = 0
    for index, process, output in running:
        code = process.wait()
        output.seek(0)
        print(f"\n===== shard {index} (exit {code}) =====", flush=True)
        sys.stdout.write(output.read())
        output.close()
        status = status or code
    print(f"\nall shards done in {time.monotonic() - started:.0f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
