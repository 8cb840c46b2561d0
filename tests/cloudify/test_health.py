"""Liveness and readiness, as a load balancer and an operator see them."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from tests.conftest import ROOT, free_port, service_env, wait_for_http


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


def test_readyz_answers_503_naming_the_database_when_it_is_unreachable():
    """A real server process whose DATABASE_URL points at a port nothing listens on."""
    port, dead_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "cloudify.wsgi:application",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=service_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{dead_port}/nowhere"),
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=proc)
        response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=15)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["failing"] == ["database"]
        assert body["checks"]["broker"] == "ok"
        assert "OperationalError" in body["checks"]["database"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
