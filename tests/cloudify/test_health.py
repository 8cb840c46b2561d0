"""Liveness and readiness, as a load balancer and an operator see them."""

from __future__ import annotations

import socket
import subprocess

import pytest
import requests

from tests.conftest import ROOT, gunicorn_command, service_env, wait_for_http


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-Id"]


@pytest.mark.django_db
def test_readyz_reports_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_request_id_from_proxy_is_kept_and_a_bad_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-Id"] == "abc-123"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="<script>")["X-Request-Id"] != "<script>"


def test_readyz_answers_503_naming_the_database_when_it_is_unreachable(tmp_path):
    """A real server process whose DATABASE_URL points at a port nothing listens on."""
    # Both ports stay ours for the whole test, so no other process on the machine can take
    # them between choosing and using: gunicorn serves on a socket we made (fd://), and the
    # database port is held bound but not listening, so connecting to it is refused.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
        log_path = tmp_path / "gunicorn.log"
        with listener, open(log_path, "w") as log:
            proc = subprocess.Popen(
                gunicorn_command(f"fd://{listener.fileno()}"),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
                env=service_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{dead_port}/nowhere"),
            )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", process=proc)
            response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=15)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    assert response.status_code == 503, log_path.read_text()
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["database"]
    assert body["checks"]["broker"] == "ok"
    assert "OperationalError" in body["checks"]["database"]
