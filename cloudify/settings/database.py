"""The database: PostgreSQL from DATABASE_URL, or SQLite under VAR_DIR outside production."""

from __future__ import annotations

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
