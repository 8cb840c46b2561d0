"""Settings for the test suite: test secrets, sandbox credentials, then the real settings.

`make test` exports DATABASE_URL / REDIS_URL (see scripts/test_backends.py); without them the
suite runs on SQLite and the file broker.
"""

import os

os.environ.setdefault("CLOUDIFY_ENV", "test")
os.environ.setdefault("VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "var", "test"))
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Deliveries retry after about a second, not ten, so tests of HubSpot outages stay short.
os.environ.setdefault("DELIVERY_RETRY_BASE_S", "1")

from cloudify.settings.base import *  # noqa: E402,F403

# Worker processes started by the suite must see the test database: give SQLite's a file.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
