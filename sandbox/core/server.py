"""A threaded HTTP server for the simulators.

Werkzeug's server is a ThreadingMixIn HTTP/1.1 server: one thread per connection with
keep-alive, which is what the benchmark and the tests need (hundreds of requests per second
from a handful of keep-alive clients). It is not meant to face the internet.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WSGIApp = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    """Keeps the per-request access log out of the test output; the sandbox has its own log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if logging.getLogger("sandbox.access").isEnabledFor(logging.DEBUG):
            super().log_request(code, size)


def build_server(app: WSGIApp, host: str, port: int) -> BaseWSGIServer:
    """Bind a threaded server; port 0 picks a free port (read it back from ``server.port``)."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = True
    return server


class BackgroundServer:
    """Runs a WSGI app on a daemon thread; used by tests, the demo and the benchmark."""

    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server = build_server(app, host, port)
        self.host = host
        self.port = self._server.port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
