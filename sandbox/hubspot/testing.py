"""Helpers for tests that drive the HubSpot sandbox: a token, the SDK pointed at the sandbox,
and a recording receiver that plays the app when the sandbox calls it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from sandbox.core.server import BackgroundServer

SECRET = "sandbox-hubspot-secret"


def admin(base: str, method: str, path: str, **kwargs: Any) -> Any:
    response = requests.request(method, f"{base}{path}", timeout=30, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def token(base: str, portal: int = 9000001, scopes: list[str] | None = None) -> str:
    body: dict[str, Any] = {"portal": portal}
    if scopes is not None:
        body["scopes"] = scopes
    return admin(base, "POST", "/_sandbox/tokens", json=body)["access_token"]


def sdk(base: str, access_token: str | None = None, **kwargs: Any):
    from hubspot import Client

    return Client.create(access_token=access_token, host=base, **kwargs)


@dataclass
class Received:
    """One request the app got; `url` is exactly as sent (escapes kept), as an app signs it."""

    method: str
    url: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny app: records every request, answers with `answer(request) -> (status, body)` or
    `(status, body, headers)`,
    optionally after `delay` seconds; tracks how many requests are in flight at once."""

    answer: Callable[[Received], tuple] = lambda r: (204, None)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    max_in_flight: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: BackgroundServer | None = None

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        item = Received(
            request.method,
            request.host_url.rstrip("/") + raw_uri if raw_uri else request.url,
            request.path,
            dict(request.args.items()),
            dict(request.headers.items()),
            request.get_data(as_text=True),
            time.monotonic(),
        )
        with self._lock:
            self.received.append(item)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            answer = self.answer(item)
        finally:
            with self._lock:
                self._in_flight -= 1
        status, body = answer[0], answer[1]
        headers = answer[2] if len(answer) > 2 else None
        if body is None:
            response = Response(status=status, headers=headers)
        elif isinstance(body, str):
            response = Response(body, status=status, mimetype="text/html", headers=headers)
        else:
            response = Response(
                json.dumps(body), status=status, mimetype="application/json", headers=headers
            )
        return response(environ, start_response)

    def reset(self) -> None:
        """Forget what was received and answer 204 again (one receiver serves many tests),
        once the requests of the previous test have been answered."""
        deadline = time.monotonic() + 5
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            self.received.clear()
            self.max_in_flight = 0
        self.answer = lambda r: (204, None)
        self.delay = 0.0

    def start(self) -> Receiver:
        self.server = BackgroundServer(self).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.stop()

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return list(self.received)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} requests, got {len(self.received)}")
