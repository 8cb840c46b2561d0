"""Settings for the test suite: test secrets, sandbox credentials, then the real settings.

`make test` exports DATABASE_URL / REDIS_URL (see scripts/test_backends.py); without them the
suite runs on SQLite and the file broker.
"""

import os

os.environ.setdefault("CLOUDIFY_ENV", "test")
os.environ.setdefault("VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "var", "test"))
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Retries wait less than in production, so tests of outages and rate limits stay short; every
# retry still happens, in the same order (the worker processes the suite starts read these too).
# Deliveries retry after about a second, not ten.
os.environ.setdefault("DELIVERY_RETRY_BASE_S", "1")
# A call's repeats after a 429 or 5xx wait 0.25 s, 0.5 s, 1 s... rather than 1 s, 2 s, 4 s...;
# still longer in all than a test's 2 s rate-limit storm.
os.environ.setdefault("API_RETRY_BASE_MS", "250")
# A run's next attempt after a transient failure comes after about 3 s, not 15 s.
os.environ.setdefault("SYNC_RETRY_BASE_S", "3")

# Bulk syncs get the whole Fortnox pace rather than half of it, so a 200-company sync stays
# under two minutes (the share itself: tests/integrations/test_ratelimit_bulk.py).
os.environ.setdefault("FORTNOX_BULK_CALLS_PER_S", "4")

# Transactional tests empty every table, the default plans included: the other tests' portals
# are then not held to a quota; the billing tests give their portals their own plans.
os.environ.setdefault("BILLING_FALLBACK_QUOTA", "1000000")

from cloudify.settings.base import *  # noqa: E402,F403

# Worker processes started by the suite must see the test database: give SQLite's a file.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
