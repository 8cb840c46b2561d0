"""Settings for the test suite: test secrets, sandbox credentials, then the real settings.

`make test` exports DATABASE_URL / REDIS_URL (see scripts/test_backends.py); without them the
suite runs on SQLite and the file broker.
"""

import os

os.environ.setdefault("CLOUDIFY_ENV", "test")
os.environ.setdefault("VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "var", "test"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

from cloudify.settings.base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
