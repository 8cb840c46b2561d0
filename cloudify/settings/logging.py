"""Structured logging: JSON lines in production, readable lines in development.

Every record carries the request id and, inside a run, the run id (see cloudify/logging.py).
Tokens and secrets are scrubbed by a filter as a last line of defence; code never logs them.
"""

from __future__ import annotations

from cloudify.env import env

LOG_LEVEL = env.str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", "json" if env.is_production else "text")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "cloudify.logging.ContextFilter"},
        "redact": {"()": "cloudify.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(run_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {
            "()": "cloudify.logging.TextFormatter",
            "format": "%(asctime)s %(levelname)-7s %(name)s [req=%(request_id)s run=%(run_id)s] "
            "%(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["context", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (a console one while DEBUG, one for the development server's
        # access lines) have no scrub, and OAuth callbacks and Replay links carry secrets in
        # their URLs ("Forbidden: /replay/<token>"): every django record goes to ours instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
    },
}
