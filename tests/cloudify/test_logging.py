"""Logs carry request and run ids and never a token; the admin is for staff only."""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings

from cloudify.logging import ContextFilter, RedactSecretsFilter, bind_run_id, request_id_var


def _json_handler(stream) -> logging.Handler:
    from pythonjsonlogger.json import JsonFormatter

    spec = settings.LOGGING["formatters"]["json"]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(spec["fmt"], rename_fields=spec["rename_fields"]))
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactSecretsFilter())
    return handler


def test_production_log_lines_are_json_with_request_and_run_ids(capsys):
    import io

    stream = io.StringIO()
    logger = logging.getLogger("tests.logging.json")
    logger.addHandler(_json_handler(stream))
    logger.setLevel(logging.INFO)
    token = request_id_var.set("req-42")
    try:
        with bind_run_id(1234):
            logger.info("invoice created", extra={"portal": 99})
    finally:
        request_id_var.reset(token)
    line = json.loads(stream.getvalue())
    assert line["message"] == "invoice created"
    assert line["request_id"] == "req-42"
    assert line["run_id"] == "1234"
    assert line["portal"] == 99
    assert line["level"] == "INFO"


@pytest.mark.parametrize(
    "message",
    [
        "calling Fortnox with Authorization: Bearer eyJhbGciOi.secret.part",
        "token response {'access_token': 'abc123', 'refresh_token': 'def456'}",
        "POST /oauth-v1/token grant_type=refresh_token&refresh_token=def456&x=1",
        "client auth Basic c2FuZGJveDpzZWNyZXQ=",
    ],
)
def test_secrets_are_scrubbed_from_messages(message):
    import io

    stream = io.StringIO()
    logger = logging.getLogger("tests.logging.redact")
    logger.addHandler(_json_handler(stream))
    logger.setLevel(logging.INFO)
    logger.warning(message)
    output = stream.getvalue()
    for secret in ("eyJhbGciOi.secret.part", "abc123", "def456", "c2FuZGJveDpzZWNyZXQ="):
        assert secret not in output
    assert "[redacted]" in output


@pytest.mark.django_db
def test_admin_asks_for_a_staff_login(client, django_user_model):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    user = django_user_model.objects.create_user("rep", password="pw-not-staff-123")
    client.force_login(user)
    assert client.get("/admin/").status_code == 302  # signed in, but not staff
    user.is_staff = True
    user.save()
    assert client.get("/admin/").status_code == 200


def test_development_log_lines_show_the_extra_fields_without_secrets():
    import io

    from cloudify.logging import TextFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter(settings.LOGGING["formatters"]["text"]["format"]))
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("tests.logging.text")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    with bind_run_id(7):
        logger.warning("run failed", extra={"deal": "123", "why": "Bearer abc.def"})

    line = stream.getvalue()
    assert "run=7" in line and "run failed" in line
    assert "deal=123" in line
    assert "why=Bearer [redacted]" in line and "abc.def" not in line


def test_json_lines_hold_no_oauth_state_nor_replay_token_even_in_extra_fields():
    """Django logs "Forbidden: <path>" with the request object as a field; the JSON formatter
    would write its text, path and all."""
    import io

    class FakeRequest:
        def __str__(self) -> str:
            return "<WSGIRequest: GET '/replay/.eJyrVi-token:1tQx9Z:sig'>"

    stream = io.StringIO()
    logger = logging.getLogger("tests.logging.url")
    logger.addHandler(_json_handler(stream))
    logger.setLevel(logging.INFO)
    logger.warning(
        "Forbidden: %s",
        "/replay/.eJyrVi-token:1tQx9Z:sig",
        extra={"request": FakeRequest(), "status_code": 403, "portal": 99},
    )
    logger.info('"GET /fortnox/oauth/callback?code=c0de42&state=st4te42 HTTP/1.1" 302 0')

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "Forbidden: /replay/[redacted]"
    assert lines[0]["request"] == "<WSGIRequest: GET '/replay/[redacted]'>"
    assert lines[0]["status_code"] == 403 and lines[0]["portal"] == 99
    assert "code=[redacted]&state=[redacted]" in lines[1]["message"]
    for secret in ("token:1tQx9Z", "c0de42", "st4te42"):
        assert secret not in stream.getvalue()
