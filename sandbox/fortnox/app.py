"""The Fortnox simulator as one WSGI app: the OAuth host (/oauth-v1/...), the API host (/3/...)
and the sandbox's own admin routes (/_sandbox/...), on one port.

    create_app(state_file=None) -> FortnoxSandbox  (a WSGI callable with .close())
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import socket
import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from sandbox.core.persistence import load_state, save_state
from sandbox.core.ratelimit import SlidingWindowLimiter
from sandbox.fortnox import admin, api, errors, seed, ui
from sandbox.fortnox.clock import STOCKHOLM, SandboxClock
from sandbox.fortnox.errors import ApiError
from sandbox.fortnox.faults import Faults
from sandbox.fortnox.oauth import TEXT_HTML, OAuth, Reply, error_page
from sandbox.fortnox.store import DEFAULT_CLIENT_ID, Store

log = logging.getLogger("sandbox.fortnox")

RATE_LIMIT = 25
RATE_WINDOW = 5.0
TOO_MANY = {"message": "Too Many Requests"}
MAX_LOG = 20000


def dumps(body: Any) -> bytes:
    """JSON as the real service writes it: ASCII with \\u escapes and escaped slashes."""
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


class RequestLog:
    def __init__(self) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=MAX_LOG)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def query(self, company: str | None, path_prefix: str | None) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._entries)
        return [
            e
            for e in entries
            if (not company or e["company"] == company)
            and (not path_prefix or e["path"].startswith(path_prefix))
        ]


class _Drop(Exception):
    pass


class FortnoxSandbox:
    def __init__(self, state_file: str | None = None) -> None:
        self.state_file = state_file
        self.store = Store()
        self.clock = SandboxClock()
        self.faults = Faults(self.clock)
        self.request_log = RequestLog()
        self.token_stats: dict[str, Any] = {}
        self._reset_stats()
        self.oauth = OAuth(self.store, self.clock, self.token_stats)
        self.limiter = SlidingWindowLimiter(RATE_LIMIT, RATE_WINDOW, clock=self.clock.monotonic)
        self._dirty = threading.Event()
        self._closing = threading.Event()
        loaded = load_state(state_file)
        if loaded:
            self.store.load(loaded)
            self.clock.set_offset(float(loaded.get("clock_offset") or 0.0))
        else:
            seed.seed(self.store)
        self._saver: threading.Thread | None = None
        if state_file:
            self._saver = threading.Thread(
                target=self._save_loop, name="fortnox-state", daemon=True
            )
            self._saver.start()

    @property
    def default_client_id(self) -> str:
        return os.environ.get("SANDBOX_FORTNOX_CLIENT_ID", DEFAULT_CLIENT_ID)

    # -- lifecycle ---------------------------------------------------------------------------
    def _reset_stats(self) -> None:
        self.token_stats.clear()
        self.token_stats.update(
            {
                "token_calls": {"authorization_code": 0, "refresh_token": 0},
                "refused": 0,
                "revoked": 0,
            }
        )

    def reset(self) -> None:
        with self.store.lock:
            seed.seed(self.store)
            self.clock.set_offset(0.0)
            self.faults.clear()
            self.request_log.clear()
            self._reset_stats()
            self.limiter.reset()
        self.mark_dirty()

    def mark_dirty(self) -> None:
        self._dirty.set()

    def save(self) -> None:
        if not self.state_file:
            return
        with self.store.lock:
            self.store.state["clock_offset"] = self.clock.offset
            state = self.store.to_dict()
        save_state(self.state_file, state)

    def _save_loop(self) -> None:
        while not self._closing.is_set():
            self._dirty.wait(timeout=1.0)
            if self._closing.is_set():
                break
            if self._dirty.is_set():
                time.sleep(0.5)  # debounce a burst of writes
                self._dirty.clear()
                try:
                    self.save()
                except Exception:  # a full disk must not kill the sandbox
                    log.exception("could not save the Fortnox sandbox state")

    def close(self) -> None:
        self._closing.set()
        self._dirty.set()
        if self._saver is not None:
            self._saver.join(timeout=5)
        self.save()

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if path.startswith("/_sandbox"):
            response = self._admin(request, path)
            return response(environ, start_response)
        try:
            response = self._serve(request, path)
        except _Drop:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("commit-then-drop fault: no answer sent") from None
        return response(environ, start_response)

    def _admin(self, request: Request, path: str) -> Response:
        if path.startswith("/_sandbox/ui/") and request.method == "GET":
            return ui.handle(self, path)  # HTML pages for people (make run)
        args = {k: v for k, v in request.args.items()}
        try:
            status, body = admin.handle(self, request.method, path, args, request.get_data())
        except admin.AdminError as exc:
            status, body = exc.status, {"error": exc.message}
        return Response(
            json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
        )

    def _serve(self, request: Request, path: str) -> Response:
        method = request.method
        raw = request.get_data()
        args = {k: v for k, v in request.args.items()}
        delay = self.faults.delay_seconds()
        if delay:
            time.sleep(delay)
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": args,
            "body": _parse_logged(raw, request.content_type),
            "status": None,
            "response": None,
            "timestamp": self.clock.now().isoformat(),
            "company": None,
            "client_id": None,
        }
        drop = False
        hold = 0.0
        failure = self.faults.take_failure(method, path)
        if failure is not None:
            reply = _failure_reply(failure)
        elif path.startswith("/oauth-v1/"):
            reply = self._oauth(request, method, path, raw)
        elif path == "/3" or path.startswith("/3/"):
            reply = self._api(request, method, path, args, raw)
            if 200 <= reply.status < 300 and self.faults.take_drop(method, path):
                drop = True
            elif 200 <= reply.status < 300:
                hold = self.faults.take_hold(method, path)
        else:
            reply = Reply(404, {"message": "not found"})
        entry["status"] = reply.status
        entry["company"] = reply.company
        entry["client_id"] = reply.client_id
        if isinstance(reply.body, (dict, list)):
            entry["response"] = reply.body
        self.request_log.add(entry)
        if method != "GET" and reply.status < 400:
            self.mark_dirty()
        if drop:
            raise _Drop()
        if hold:
            time.sleep(hold)  # committed above; the answer comes this much later
        if reply.status == 204:
            return Response(status=204)
        body = reply.body
        if isinstance(body, (dict, list)):
            data = dumps(body)
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = body or b""
        response = Response(data, status=reply.status)
        response.headers["Content-Type"] = reply.content_type
        for name, value in reply.headers.items():
            response.headers[name] = value
        return response

    # -- OAuth host ----------------------------------------------------------------------------
    def _oauth(self, request: Request, method: str, path: str, raw: bytes) -> Reply:
        base = request.host_url.rstrip("/")
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        if path in ("/oauth-v1/auth", "/oauth-v1/auth/"):
            if method != "GET":
                return error_page("Error: use GET", 405)
            return self.oauth.authorize(dict(request.args.items()), base)
        if path == "/oauth-v1/auth/consent":
            params = form if method == "POST" else dict(request.args.items())
            params.setdefault("decision", "allow")
            if params["decision"] != "deny" and not params.get("company"):
                return error_page("Error: choose a company")
            return self.oauth.authorize(params, base)
        if path == "/oauth-v1/token" and method == "POST":
            return self.oauth.token(request.headers.get("Authorization"), form)
        if path == "/oauth-v1/revoke" and method == "POST":
            return self.oauth.revoke(request.headers.get("Authorization"), form)
        return Reply(404, "<html><body>Not Found</body></html>", TEXT_HTML)

    # -- API host ------------------------------------------------------------------------------
    def _api(
        self, request: Request, method: str, path: str, args: dict[str, str], raw: bytes
    ) -> Reply:
        if self.faults.storm_active():
            return Reply(429, TOO_MANY)
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        info = self.oauth.check_access(token) if token else None
        if info is None:
            return Reply(401, errors.UNAUTHORIZED_BODY)
        company_id, client_id = info["company"], info["client_id"]
        company = self.store.company(company_id)
        if company is None:
            return Reply(401, errors.UNAUTHORIZED_BODY)
        parts = [p for p in path[3:].split("/") if p]
        target = api.resolve(parts)
        try:
            if target is None:
                raise api._unknown_path()
            allowed, _, _ = self.limiter.hit((client_id, company_id))
            if not allowed:
                return Reply(429, TOO_MANY, company=company_id, client_id=client_id)
            name, scope = target
            if scope not in info["scopes"]:
                raise errors.lower(400, errors.NO_SCOPE, "Har inte behörighet för scope")
            for group in api.licence_groups(name):
                if not any(code in company["licences"] for code in group):
                    raise errors.lower(
                        403, errors.NO_LICENCE, "Det finns ingen aktiv licens för önskat scope"
                    )
            now = self.clock.now()
            stamp = now.strftime("%Y-%m-%d %H:%M:%S")
            base = request.host_url.rstrip("/")
            with self.store.lock:
                result = api.handle(company, method, parts, args, raw, base, now.date(), stamp)
        except ApiError as refused:
            exc = self.faults.article_missing_answer(refused, method, parts)
            return Reply(
                exc.status, exc.body, headers=exc.headers, company=company_id, client_id=client_id
            )
        if result.pdf:
            return Reply(
                result.status,
                result.body,
                "application/pdf",
                result.headers,
                company=company_id,
                client_id=client_id,
            )
        return Reply(
            result.status,
            result.body,
            headers=result.headers,
            company=company_id,
            client_id=client_id,
        )


def _parse_logged(raw: bytes, content_type: str | None) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    if content_type and "json" in content_type or text[:1] in "{[":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


_GATEWAY = (
    "<html>\r\n<head><title>{status}</title></head>\r\n<body>\r\n<center><h1>{status}</h1></center>"
    "\r\n</body>\r\n</html>\r\n"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def _failure_reply(status: int) -> Reply:
    """A Fortnox-like answer for an injected failure (fail-next fault)."""
    if status == 429:
        return Reply(429, TOO_MANY)
    if status == 401:
        return Reply(401, errors.UNAUTHORIZED_BODY)
    if status == 500:
        return Reply(
            500, {"ErrorInformation": {"error": 1, "message": "System exception", "code": 1000003}}
        )
    if status in _REASONS:
        return Reply(status, _GATEWAY.format(status=f"{status} {_REASONS[status]}"), TEXT_HTML)
    if status == 404:
        return Reply(404, errors.upper(404, 2000400, "Kan inte hitta resursen.").body)
    return Reply(
        status,
        {
            "ErrorInformation": {
                "error": 1,
                "message": "Ett fel uppstod (sandbox fail-next).",
                "code": 1000003,
            }
        },
    )


def create_app(state_file: str | None = None) -> FortnoxSandbox:
    return FortnoxSandbox(state_file=state_file)


__all__ = ["FortnoxSandbox", "create_app", "STOCKHOLM", "datetime"]
