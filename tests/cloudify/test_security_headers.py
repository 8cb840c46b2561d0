"""What a browser is told: never to frame us, to stay on https (production), and what it may
load; and the embedded SQLite file is for the service's user alone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, free_port, gunicorn_command, wait_for_http

PRODUCTION_ENV = {
    "CLOUDIFY_ENV": "production",
    "DJANGO_SETTINGS_MODULE": "cloudify.settings.base",
    "SECRET_KEY": "a-production-secret-for-this-test",
    "ALLOWED_HOSTS": "127.0.0.1",
    "PUBLIC_BASE_URL": "https://cloudify.example",
    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nowhere",  # /healthz never touches it
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "FIELD_ENCRYPTION_KEYS": "ZGV2LWtleS1ub3QtZm9yLXByb2R1Y3Rpb24tdXNlISE=",
    "HUBSPOT_CLIENT_ID": "id",
    "HUBSPOT_CLIENT_SECRET": "secret",
    "HUBSPOT_APP_ID": "1",
    "FORTNOX_CLIENT_ID": "id",
    "FORTNOX_CLIENT_SECRET": "secret",
}


def _env(**values: str) -> dict[str, str]:
    """Only these variables (and PATH, and the checkout on sys.path)."""
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **values}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/hubspot/install", "/no-such-page"])
def test_every_response_forbids_framing(client, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_production_sends_hsts_for_a_year_on_https_and_csp_everywhere():
    """A production web server behind the TLS proxy (X-Forwarded-Proto: https)."""
    port = free_port()
    proc = subprocess.Popen(
        gunicorn_command(f"127.0.0.1:{port}"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(**PRODUCTION_ENV),
    )
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        wait_for_http(url, process=proc)
        over_tls = requests.get(url, headers={"X-Forwarded-Proto": "https"}, timeout=10)
        plain = requests.get(url, timeout=10)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert over_tls.status_code == 200
    assert over_tls.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "frame-ancestors 'none'" in over_tls.headers["Content-Security-Policy"]
    # Browsers ignore HSTS over plain http; Django sends it on secure requests only.
    assert "Strict-Transport-Security" not in plain.headers
    assert "frame-ancestors 'none'" in plain.headers["Content-Security-Policy"]


def _setting(name: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from django.conf import settings; print(settings.{name})",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_hsts_duration_comes_from_the_environment():
    assert _setting("SECURE_HSTS_SECONDS", PRODUCTION_ENV) == "31536000"
    shorter = {**PRODUCTION_ENV, "SECURE_HSTS_SECONDS": "600"}
    assert _setting("SECURE_HSTS_SECONDS", shorter) == "600"
    development = {
        "CLOUDIFY_ENV": "development",
        "DJANGO_SETTINGS_MODULE": PRODUCTION_ENV["DJANGO_SETTINGS_MODULE"],
    }
    assert _setting("SECURE_HSTS_SECONDS", development) == "0"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _manage(var_dir: Path, *args: str) -> None:
    """manage.py in development with the embedded default (SQLite under VAR_DIR), under the
    usual umask, with which SQLite alone would create a world-readable file."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=_env(
            CLOUDIFY_ENV="development",
            DJANGO_SETTINGS_MODULE="cloudify.settings.base",
            VAR_DIR=str(var_dir),
        ),
        preexec_fn=lambda: os.umask(0o022),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_the_embedded_database_is_readable_by_the_service_user_only(tmp_path):
    var_dir = tmp_path / "var"
    _manage(var_dir, "migrate", "--noinput")

    database = var_dir / "db.sqlite3"
    assert database.stat().st_size > 0  # the real database, migrated
    assert _mode(database) == 0o600
    assert _mode(var_dir) == 0o700

    database.chmod(0o644)  # e.g. copied in from elsewhere
    _manage(var_dir, "check")
    assert _mode(database) == 0o600


@pytest.mark.django_db
def test_the_replay_page_is_never_kept_in_a_cache(client):
    from notes.replay import replay_token

    for token in (replay_token(9000001, 1), "not-a-token"):
        response = client.get(f"/replay/{token}")
        assert response.status_code in (403, 404)  # no such run / not a valid link
        assert "no-store" in response["Cache-Control"]
