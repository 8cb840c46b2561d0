"""The settings helper: values converted, malformed values and missing secrets named."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from cloudify.env import Env
from tests.conftest import ROOT


def test_production_is_the_default_and_names_every_missing_secret():
    env = Env({})
    assert env.is_production
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env.require_in_production(["SECRET_KEY", "FORTNOX_CLIENT_SECRET"])
    message = str(excinfo.value)
    assert "SECRET_KEY, FORTNOX_CLIENT_SECRET" in message
    assert "README.md" in message


def test_development_defaults_apply_only_outside_production():
    assert Env({"CLOUDIFY_ENV": "development"}).str("SECRET_KEY", dev_default="dev") == "dev"
    with pytest.raises(ImproperlyConfigured, match="Missing environment variable SECRET_KEY"):
        Env({"CLOUDIFY_ENV": "production"}).str("SECRET_KEY", dev_default="dev")


def test_values_are_converted_and_malformed_ones_named():
    env = Env(
        {
            "CLOUDIFY_ENV": "test",
            "DEBUG": "yes",
            "N": "12",
            "HOSTS": "a.se, b.se,,",
            "BAD": "maybe",
            "BASE": "https://api.fortnox.se/",
        }
    )
    assert env.bool("DEBUG") is True
    assert env.int("N") == 12
    assert env.list("HOSTS") == ["a.se", "b.se"]
    assert env.url("BASE") == "https://api.fortnox.se"
    with pytest.raises(ImproperlyConfigured, match="BAD='maybe' is not a boolean"):
        env.bool("BAD")
    with pytest.raises(ImproperlyConfigured, match="N2='x' is not a whole number"):
        Env({"N2": "x"}).int("N2")
    with pytest.raises(ImproperlyConfigured, match="CLOUDIFY_ENV='staging'"):
        Env({"CLOUDIFY_ENV": "staging"})


def test_production_requires_https_public_url():
    env = Env({"PUBLIC_BASE_URL": "http://cloudify.example"})
    with pytest.raises(ImproperlyConfigured, match="PUBLIC_BASE_URL must be an https"):
        env.url("PUBLIC_BASE_URL", https_in_production=True)


def _manage_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`manage.py check` in a process with only these variables (and PATH)."""
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=60,
    )


def test_service_refuses_to_start_in_production_without_secrets():
    """What an operator sees: the process exits, naming the variables to set."""
    result = _manage_check(
        {"DJANGO_SETTINGS_MODULE": "cloudify.settings.base", "SECRET_KEY": "s3cret-for-this-test"}
    )
    assert result.returncode != 0
    assert "Missing environment variables ALLOWED_HOSTS, PUBLIC_BASE_URL" in result.stderr
    assert "SECRET_KEY," not in result.stderr  # the one that was given is not named
    assert "s3cret-for-this-test" not in result.stderr


def test_service_refuses_a_per_portal_run_limit_below_one():
    """SYNC_RUNS_PER_PORTAL=0 would leave every run waiting: the process says so and stops."""
    result = _manage_check(
        {
            "CLOUDIFY_ENV": "development",
            "DJANGO_SETTINGS_MODULE": "cloudify.settings.base",
            "SYNC_RUNS_PER_PORTAL": "0",
        }
    )
    assert result.returncode != 0
    assert "SYNC_RUNS_PER_PORTAL=0: set it to 1 or more" in result.stderr
