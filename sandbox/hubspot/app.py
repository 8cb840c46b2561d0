"""The HubSpot sandbox as one WSGI app: app.hubspot.com (/oauth/authorize) and api.hubapi.com
paths on one port, plus the admin API under /_sandbox.

`create_app(state_file=None)` returns a Sandbox; `close()` saves the state file and stops the
delivery threads (sandbox/__main__.py calls it on shutdown).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.core.persistence import load_state, save_state
from sandbox.core.ratelimit import SlidingWindowLimiter
from sandbox.hubspot import auth, seed
from sandbox.hubspot.clock import SandboxClock
from sandbox.hubspot.faults import Faults
from sandbox.hubspot.http import ApiError, error_body, json_response
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.store import Change, Portal, Store

logger = logging.getLogger("sandbox.hubspot")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_APP_DIR = ROOT / "hubspot-app" / "src" / "app"
# Used when hubspot-app/src/app/app-hsmeta.json is absent.
BUILTIN_REQUIRED_SCOPES = [
    "oauth",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.line_items.read",
    "crm.objects.products.read",
    "files",
]
REQUEST_LOG_MAX = 5000
LOG_RESULTS_MAX = 20
AUTOSAVE_S = 10.0


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def default_app_config() -> dict[str, Any]:
    """The sandbox's one app, from the environment and the HubSpot project files."""
    app_dir = Path(os.environ.get("SANDBOX_HUBSPOT_APP_DIR", DEFAULT_APP_DIR))
    meta = (_read_json(app_dir / "app-hsmeta.json") or {}).get("config", {})
    auth_conf = meta.get("auth", {})
    hooks = (_read_json(app_dir / "webhooks" / "webhooks-hsmeta.json") or {}).get("config", {})
    subscriptions = []
    for group in ("crmObjects", "legacyCrmObjects", "hubEvents"):
        subscriptions.extend(hooks.get("subscriptions", {}).get(group, []))
    return {
        "name": meta.get("name", "Sandbox app"),
        "client_id": os.environ.get("SANDBOX_HUBSPOT_CLIENT_ID", "sandbox-hubspot-client"),
        "client_secret": os.environ.get("SANDBOX_HUBSPOT_CLIENT_SECRET", "sandbox-hubspot-secret"),
        "app_id": int(os.environ.get("SANDBOX_HUBSPOT_APP_ID", "1001")),
        "developer_api_key": os.environ.get(
            "SANDBOX_HUBSPOT_DEVELOPER_KEY", "sandbox-developer-key"
        ),
        "required_scopes": list(auth_conf.get("requiredScopes", BUILTIN_REQUIRED_SCOPES)),
        "optional_scopes": list(auth_conf.get("optionalScopes", [])),
        "redirect_urls": list(auth_conf.get("redirectUrls", [])),
        "redirect_uri": None,
        "public_base_url": os.environ.get("SANDBOX_HUBSPOT_PUBLIC_BASE_URL") or None,
        "webhook_url": None,
        "webhook_target_template": hooks.get("settings", {}).get("targetUrl"),
        "max_concurrent_requests": int(hooks.get("settings", {}).get("maxConcurrentRequests", 10)),
        "card_fetch_base": None,
        "subscriptions": subscriptions,
        "workflow_actions_dir": str(app_dir / "workflow-actions"),
    }


class _Drop(Exception):
    """The commit-then-drop fault: the request was carried out; its answer is to be lost."""


class Sandbox:
    def __init__(self, state_file: str | None = None) -> None:
        self.state_file = state_file
        self.clock = SandboxClock()
        self.store = Store()
        self.faults = Faults()
        self.limiter = SlidingWindowLimiter(auth.RATE_LIMIT, auth.RATE_WINDOW_S)
        self.search_limiter = SlidingWindowLimiter(auth.SEARCH_LIMIT, auth.SEARCH_WINDOW_S)
        self.request_log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_MAX)
        self._routes: list[Route] = []
        self._closed = threading.Event()
        self._dirty = False
        from sandbox.hubspot import delivery

        self.delivery = delivery.Delivery(self)
        self.url_map = Map(strict_slashes=False)
        for module in _route_modules():
            for route in module.routes():
                self._routes.append(route)
                self.url_map.add(
                    Rule(route.rule, methods=route.methods, endpoint=len(self._routes) - 1)
                )
        self.reset()
        saved = load_state(state_file)
        if saved:
            with self.store.lock:
                self.store.load(saved)
                self.delivery.load_config(saved.get("delivery_config"))
        self._saver = None
        if state_file:
            self._saver = threading.Thread(target=self._autosave, name="hubspot-save", daemon=True)
            self._saver.start()

    # -- lifecycle --------------------------------------------------------------------------
    def reset(self) -> None:
        with self.store.lock:
            store = self.store
            store.app = default_app_config()
            store.portals = seed.seed_portals(self.clock)
            store.codes.clear()
            store.access_tokens.clear()
            store.refresh_tokens.clear()
            store.definitions.clear()
            store.token_calls.clear()
            store.token_refused.clear()
            store.signed_urls.clear()
            store.next_definition_id = 5001
            store.next_subscription_id = 3001
            store.app["subscriptions"] = self.number_subscriptions(store.app["subscriptions"])
            from sandbox.hubspot import automation

            automation.load_project_definitions(self)
            self.clock.reset()
            self.faults.clear()
            self.limiter.reset()
            self.search_limiter.reset()
            self.request_log.clear()
            self.delivery.reset()
            self._dirty = True

    def number_subscriptions(self, subscriptions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        numbered = []
        for sub in subscriptions:
            sub = dict(sub)
            if "subscriptionType" not in sub and "eventType" in sub:
                sub["subscriptionType"] = sub.pop("eventType")
            if not sub.get("id"):
                sub["id"] = self.store.next_subscription_id
                self.store.next_subscription_id += 1
            sub.setdefault("active", True)
            numbered.append(sub)
        return numbered

    def save(self) -> None:
        if not self.state_file:
            return
        with self.store.lock:
            data = self.store.to_dict()
            data["delivery_config"] = dict(self.delivery.config)
            text = json.loads(json.dumps(data, default=str))
            self._dirty = False
        save_state(self.state_file, text)

    def _autosave(self) -> None:
        while not self._closed.wait(AUTOSAVE_S):
            if self._dirty:
                try:
                    self.save()
                except Exception:  # a failed autosave must not kill the thread
                    logger.exception("hubspot sandbox: saving the state file failed")

    def close(self) -> None:
        self._closed.set()
        self.delivery.close()
        self.save()

    # -- events -----------------------------------------------------------------------------
    def emit(self, changes: list[Change]) -> None:
        self._dirty = True
        if changes:
            self.delivery.webhooks.on_changes(changes)

    def uninstall(self, portal: Portal) -> int:
        """The app leaves `portal`: its refresh and access tokens are refused from now on.
        HubSpot sends no uninstall event to the app (hubspot-api.md §1.4). Caller holds lock."""
        portal.installed = False
        revoked = 0
        for ref in self.store.refresh_tokens.values():
            if ref["hub_id"] == portal.hub_id and not ref["revoked"]:
                ref["revoked"] = True
                revoked += 1
        for tok in self.store.access_tokens.values():
            if tok["hub_id"] == portal.hub_id:
                tok["revoked"] = True
        self.delivery.webhooks.drop_portal(portal.hub_id)
        self._dirty = True
        return revoked

    # -- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except _Drop:
            # Close the socket with no answer: the client sees the connection reset / closed
            # and cannot tell whether the request was carried out (it was).
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("commit-then-drop fault: no answer sent") from None
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            index, args = adapter.match()
        except (NotFound, MethodNotAllowed) as exc:
            status = exc.code
            return json_response(
                error_body(f"No route for {request.method} {request.path}", "OBJECT_NOT_FOUND"),
                status,
            )
        except HTTPException as exc:  # e.g. a redirect for a trailing slash
            return exc.get_response(request.environ)
        route = self._routes[index]
        ctx = Ctx(self, request)
        if route.kind == "admin":
            try:
                result = route.handler(ctx, **args)
            except ApiError as exc:
                return exc.response()
            if not isinstance(result, Response) and self.state_file:
                self._dirty = True
            return _to_response(result)
        return self._api(route, ctx, args)

    def _api(self, route: Route, ctx: Ctx, args: dict[str, Any]) -> Response:
        request = ctx.request
        started = time.time()
        headers: dict[str, str] = {}
        data: Any = None
        try:
            injected = self.faults.before(request.method, request.path)
            if injected is not None:
                raise injected
            if route.kind in ("api", "search"):
                auth.authenticate(ctx)
                headers = auth.check_rate(ctx, route.kind == "search")
            elif route.kind == "hapikey":
                auth.hapikey_or_bearer(ctx)
            result = route.handler(ctx, **args)
            response = _to_response(result, headers)
            data = result[0] if isinstance(result, tuple) else result
        except ApiError as exc:
            exc.headers = {**headers, **exc.headers}
            response = exc.response()
            data = exc.body
        entry = self._log(ctx, response, data, started)
        if response.status_code < 300 and self.faults.take_drop(request.method, request.path):
            if entry is not None:
                entry["dropped"] = True
            raise _Drop()
        return response

    def _log(
        self, ctx: Ctx, response: Response, data: Any, started: float
    ) -> dict[str, Any] | None:
        request = ctx.request
        if request.path.startswith(BROWSER_PAGES):
            return None  # app.hubspot.com pages a browser opens are not calls to HubSpot's API
        hub = ctx.portal.hub_id if ctx.portal is not None else None
        if hub is None and ctx.token is None:
            hub = _hub_hint(self, request)
        if isinstance(data, Response):
            data = (
                data.get_data(as_text=True)[:500]
                if data.mimetype and data.mimetype.startswith("text")
                else None
            )
        entry = {
            "method": request.method,
            "path": request.path,
            "query": {k: v if len(v) > 1 else v[0] for k, v in request.args.lists()},
            "body": _body_summary(ctx),
            "status": response.status_code,
            "response": _trimmed(data),
            "timestamp": started,
            "elapsed_ms": int((time.time() - started) * 1000),
            "portal": hub,
        }
        self.request_log.append(entry)
        return entry


BROWSER_PAGES = ("/oauth/authorize",)


def _trimmed(data: Any) -> Any:
    """Long result lists (property definitions, pages) keep their first entries in the log."""
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        results = data["results"]
        if len(results) > LOG_RESULTS_MAX:
            return {**data, "results": results[:LOG_RESULTS_MAX], "sandbox_truncated": len(results)}
    return data


def _hub_hint(sb: Sandbox, request: Request) -> int | None:
    """The portal of a token call, for the request log."""
    value = request.form.get("refresh_token") if request.method == "POST" else None
    if value and value in sb.store.refresh_tokens:
        return sb.store.refresh_tokens[value]["hub_id"]
    code = request.form.get("code") if request.method == "POST" else None
    if code and code in sb.store.codes:
        return sb.store.codes[code]["hub_id"]
    return None


def _body_summary(ctx: Ctx) -> Any:
    request = ctx.request
    if request.method in ("GET", "HEAD", "DELETE") and not request.content_length:
        return None
    mimetype = request.mimetype or ""
    if mimetype == "multipart/form-data":
        return {
            "multipart": {
                "fields": {k: v for k, v in request.form.items()},
                "files": [
                    {
                        "field": name,
                        "filename": f.filename,
                        "content_type": f.mimetype,
                        "size": _file_size(f),
                    }
                    for name, f in request.files.items()
                ],
            }
        }
    if mimetype == "application/x-www-form-urlencoded":
        form = dict(request.form.items())
        for secret in ("client_secret",):
            if secret in form:
                form[secret] = "***"
        return form
    if ctx._json_read:
        return ctx._json
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw[:2000].decode("utf-8", "replace")


def _file_size(upload: Any) -> int:
    stream = upload.stream
    position = stream.tell()
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size


def _to_response(result: Any, headers: dict[str, str] | None = None) -> Response:
    if isinstance(result, Response):
        if headers:
            for key, value in headers.items():
                result.headers[key] = value
        return result
    status = 200
    if isinstance(result, tuple):
        result, status = result
    return json_response(result, status, headers)


def _route_modules() -> list[Any]:
    from sandbox.hubspot import (
        account,
        admin,
        associations,
        automation,
        delivery,
        faults,
        files,
        lists,
        oauth,
        objects,
        pipelines,
        properties,
        taxrates,
        ui,
        users,
    )

    return [
        admin,
        faults,
        oauth,
        objects,
        associations,
        properties,
        pipelines,
        files,
        automation,
        taxrates,
        lists,
        delivery,
        account,
        ui,
        users,
    ]


def create_app(state_file: str | None = None) -> Sandbox:
    return Sandbox(state_file=state_file)
