"""The database: PostgreSQL from DATABASE_URL, or SQLite under VAR_DIR outside production."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from cloudify.env import env
from cloudify.settings.base import VAR_DIR

DATABASE_URL = env.str("DATABASE_URL", dev_default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env.int("DATABASE_CONN_MAX_AGE", 60 if env.is_production else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when the database is unreachable (/readyz must answer, not hang).
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has several processes (web, worker, beat) on one file: take the
    # write lock when a transaction starts (no deadlock upgrading a read lock) and wait for it.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )


# The SQLite file holds the encrypted tokens and every portal's runs: readable by the service's
# user only. It is created here, 0600, before SQLite would create it from the umask (usually
# world-readable), and put back to 0600 if it is found wider; SQLite gives its journal and WAL
# files the database file's mode. A directory made for it is 0700.
SQLITE_FILE_MODE = 0o600
SQLITE_DIR_MODE = 0o700


def sqlite_file_private(name: str) -> None:
    if not name or name == ":memory:" or name.startswith("file:"):
        return  # in memory, or a URI naming its own mode
    path = Path(name)
    if not path.parent.exists():
        path.parent.mkdir(mode=SQLITE_DIR_MODE, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, SQLITE_FILE_MODE))
    if path.stat().st_mode & 0o777 != SQLITE_FILE_MODE:
        path.chmod(SQLITE_FILE_MODE)


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    sqlite_file_private(str(DATABASES["default"]["NAME"]))
