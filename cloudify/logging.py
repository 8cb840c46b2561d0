"""Request and run ids on every log record, and a last-line scrub of secrets.

The ids live in context variables, so they follow the code through threads' contexts and
Celery tasks (a task binds its run id with `bind_run_id`).
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
run_id_var: ContextVar[str] = ContextVar("run_id", default="-")

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes a well-formed X-Request-Id from the proxy, or makes one; echoes it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


@contextlib.contextmanager
def bind_run_id(run_id: object) -> Iterator[None]:
    token = run_id_var.set(str(run_id))
    try:
        yield
    finally:
        run_id_var.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "run_id"):
            record.run_id = run_id_var.get()
        return True


# Bearer tokens, OAuth fields in query strings or form bodies, and JSON token fields; in URLs
# (access log lines, Referer headers, "Not Found: <path>"), the OAuth `state` and the signed
# token of a Replay link (/replay/<token>) and of a sign-in link (/sign-in/<token>), each the
# credential itself.
_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|code|password)[\"']?\s*[=:]\s*[\"']?)"
        r"[^\s&\"',}]+"
    ),
    re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=]+"),
    re.compile(r"(?i)((?:^|[?&;])state=)[^\s&#\"']+"),
    re.compile(r"(/replay/)[^\s/?#\"']+"),
    re.compile(r"(/sign-in/)[^\s/?#\"']+"),
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Scrubs the message and the `extra=` fields. Objects among the fields (Django puts the
    request on its records: `<WSGIRequest: GET '/replay/<token>'>`) become their scrubbed text,
    which is what a formatter would have written anyway."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key, value in list(vars(record).items()):
            if key in _RECORD_ATTRIBUTES or isinstance(value, _PLAIN_FIELD_TYPES):
                continue
            setattr(record, key, redact(str(value)))
        return True


# The attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "run_id",
    "taskName",
}
# Extra fields kept as they are: numbers, flags, dates and ids (the JSON formatter writes them
# in its own way), and structures it nests.
_PLAIN_FIELD_TYPES = (
    int,
    float,
    bool,
    type(None),
    decimal.Decimal,
    datetime.date,
    datetime.time,
    uuid.UUID,
    dict,
    list,
    tuple,
)


class TextFormatter(logging.Formatter):
    """Readable lines for development, with the record's `extra=` fields appended as key=value
    (the JSON formatter puts them in the object)."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}
        if extras:
            line += " " + " ".join(f"{key}={redact(str(value))}" for key, value in extras.items())
        return line
