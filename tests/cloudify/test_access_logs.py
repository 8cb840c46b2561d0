"""Access logs never hold an OAuth code or state, nor a Replay link's token: the lines gunicorn
writes (production) and those of Django's development server (`make run`), read from the real
processes' output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import ROOT, free_port, gunicorn_command, service_env, wait_for_http

CODE = "oauth-code-7f3a9c"
STATE = "oauth-state-51be02"
REPLAY_TOKEN = ".eJyrVirIL0pVslI-replay-token-0d4e:1tQx9Z:signature-8c2b"
SECRETS = (CODE, STATE, REPLAY_TOKEN)


def _requests_with_secrets(base: str) -> None:
    """What a browser sends: OAuth callbacks with their query, a Replay link, and a page whose
    Referer is a callback URL."""
    for path in ("/hubspot/oauth/callback", "/fortnox/oauth/callback"):
        response = requests.get(f"{base}{path}", params={"code": CODE, "state": STATE}, timeout=10)
        assert response.status_code == 400  # the state was not issued: a fixed problem page
    assert requests.get(f"{base}/replay/{REPLAY_TOKEN}", timeout=10).status_code == 403
    referer = f"{base}/hubspot/oauth/callback?code={CODE}&state={STATE}"
    requests.get(f"{base}/healthz", headers={"Referer": referer}, timeout=10)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _assert_redacted(log: str) -> None:
    assert "/hubspot/oauth/callback?code=[redacted]&state=[redacted]" in log
    assert "/fortnox/oauth/callback?code=[redacted]&state=[redacted]" in log
    assert "/replay/[redacted]" in log
    for secret in SECRETS:
        assert secret not in log


def test_gunicorn_access_log_redacts_oauth_codes_states_and_replay_tokens(
    tmp_path: Path, service_database_url: str
):
    port = free_port()
    access_log = tmp_path / "access.log"
    proc = subprocess.Popen(
        gunicorn_command(f"127.0.0.1:{port}", "--access-logfile", str(access_log)),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=service_env(DATABASE_URL=service_database_url),
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=proc)
        _requests_with_secrets(f"http://127.0.0.1:{port}")
    finally:
        _stop(proc)  # gunicorn writes each line as the request ends; stopping flushes the file
    log = access_log.read_text()
    _assert_redacted(log)
    assert '"GET /healthz HTTP/1.1" 200' in log  # the lines are there, only the secrets gone


def test_development_server_log_redacts_oauth_codes_states_and_replay_tokens(
    tmp_path: Path, service_database_url: str
):
    port = free_port()
    output = tmp_path / "runserver.log"
    with open(output, "w") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                "--noreload",
                "--skip-checks",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=service_env(LOG_FORMAT="text", DATABASE_URL=service_database_url),
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", process=proc)
            _requests_with_secrets(f"http://127.0.0.1:{port}")
        finally:
            _stop(proc)
    log = output.read_text()
    _assert_redacted(log)
    assert '"GET /healthz HTTP/1.1" 200' in log
