"""E-mail to staff: where Request upgrade on the Usage tab is sent (portals/services_usage.py),
through Django's mail settings (an SMTP server: EMAIL_HOST and friends)."""

from __future__ import annotations

from cloudify.env import env

# Development prints mails on the console; tests use Django's in-memory outbox.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend",
    dev_default="django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25, minimum=1, meaning="the SMTP server's port")
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Fortnox for HubSpot <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Staff told of upgrade requests (comma-separated); Django's ADMINS when empty.
BILLING_STAFF_EMAILS = env.list("BILLING_STAFF_EMAILS", [])
