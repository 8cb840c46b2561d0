"""Django core settings. Each concern lives in its own module, imported at the end."""

from __future__ import annotations

from pathlib import Path

from cloudify.env import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Embedded state for the no-server default (SQLite, the file broker, beat's schedule).
VAR_DIR = Path(env.str("VAR_DIR", str(BASE_DIR / "var"))).resolve()

# Secrets and deployment facts that have no safe default: production refuses to start without
# them and names every one that is missing.
REQUIRED_IN_PRODUCTION = [
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "PUBLIC_BASE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "FIELD_ENCRYPTION_KEYS",
    "HUBSPOT_CLIENT_ID",
    "HUBSPOT_CLIENT_SECRET",
    "HUBSPOT_APP_ID",
    "FORTNOX_CLIENT_ID",
    "FORTNOX_CLIENT_SECRET",
]
env.require_in_production(REQUIRED_IN_PRODUCTION)

CLOUDIFY_ENV = env.name
IS_PRODUCTION = env.is_production

SECRET_KEY = env.str("SECRET_KEY", dev_default="insecure-development-key-never-use-in-production")
DEBUG = env.bool("DEBUG", False, dev_default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", dev_default=["127.0.0.1", "localhost", "[::1]"])

# The public https origin HubSpot calls. Redirect URIs, webhook URLs and Replay links are built
# from it, and HubSpot's v3 signatures are computed over it, so it must be exactly the origin
# HubSpot is configured with (not whatever Host header a proxy forwards).
PUBLIC_BASE_URL = env.url(
    "PUBLIC_BASE_URL", dev_default="http://127.0.0.1:8000", https_in_production=True
)
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "csp",
    "integrations",
    "portals",
    "sync",
    "notes",
    "billing",
]

MIDDLEWARE = [
    "cloudify.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the user's choice (cookie), else the browser's (Accept-Language).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cloudify.urls"
WSGI_APPLICATION = "cloudify.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Pages speak Swedish or English; notes and documents follow the portal's own setting
# (SyncSettings.language). English is the fallback for a browser that asks for neither.
LANGUAGE_CODE = "en"
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"  # Fortnox dates (invoice date, due date) are Swedish dates.
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
if not env.is_production:  # production fills it with collectstatic (Dockerfile)
    # var/ holds the SQLite file and the file broker's messages: the service's user's only.
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Billing (issue 17): a portal's quota when no plan is marked default (billing/services.py). The
# data migration makes Free (10 documents a month) the default; this applies only without it.
BILLING_FALLBACK_QUOTA = env.int(
    "BILLING_FALLBACK_QUOTA",
    10,
    minimum=0,
    meaning="documents a month of a portal without a plan when no plan is the default",
)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}

from cloudify.settings.celery import *  # noqa: E402,F403
from cloudify.settings.database import *  # noqa: E402,F403
from cloudify.settings.integrations import *  # noqa: E402,F403
from cloudify.settings.logging import *  # noqa: E402,F403
from cloudify.settings.mail import *  # noqa: E402,F403
from cloudify.settings.privacy import *  # noqa: E402,F403
from cloudify.settings.security import *  # noqa: E402,F403
