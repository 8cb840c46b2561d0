"""Choose the database and broker for `make test`, print the choice, and emit shell exports.

Order: DATABASE_URL / REDIS_URL when set (and then they must answer: CI relies on this to fail
rather than fall back); else PostgreSQL and Redis on their default local ports when they answer;
else SQLite and the file broker. Usage: eval "$(python scripts/test_backends.py)".
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from urllib.parse import urlsplit

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/cloudify"
LOCAL_REDIS = "redis://127.0.0.1:6379/1"  # db 1: keep the test queues apart from `make run`


def answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def choose(var: str, local: str, port: int, fallback: str) -> tuple[str, str]:
    given = os.environ.get(var)
    if given:
        if not answers(given, port):
            sys.exit(f"make test: {var}={given} does not answer; start it or unset {var}.")
        return given, f"{var} from the environment"
    if answers(local, port):
        return local, f"local server on port {port}"
    return "", fallback


def main() -> None:
    db_url, db_why = choose("DATABASE_URL", LOCAL_POSTGRES, 5432, "SQLite (no PostgreSQL found)")
    redis_url, redis_why = choose("REDIS_URL", LOCAL_REDIS, 6379, "file broker (no Redis found)")
    print(
        f"make test: database: {db_url.split('@')[-1] if db_url else 'SQLite'} ({db_why}); "
        f"broker: {redis_url.split('@')[-1] if redis_url else 'filesystem'} ({redis_why})",
        file=sys.stderr,
    )
    for var, value in (("DATABASE_URL", db_url), ("REDIS_URL", redis_url)):
        if value:
            print(f"export {var}={shlex.quote(value)}")
        else:
            print(f"unset {var}")


if __name__ == "__main__":
    main()
