"""HubSpot calling the app: webhooks (webhooks.py), workflow actions (workflows.py), app-card
`hubspot.fetch` calls and the install dance (here), all signed with the app's client secret
(signing.py) and logged in the deliveries log (`GET /_sandbox/deliveries`).

Admin routes: /_sandbox/install, /_sandbox/card-fetch, /_sandbox/workflows/execute,
/_sandbox/workflows/executions[/{callbackId}], /_sandbox/webhooks/config, /_sandbox/webhooks/drain,
/_sandbox/webhooks/events, /_sandbox/deliveries.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests

from sandbox.hubspot import signing
from sandbox.hubspot.http import validation_error
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.webhooks import Batch, Webhooks
from sandbox.hubspot.workflows import Workflows, object_type_name

if TYPE_CHECKING:
    from sandbox.hubspot.app import Sandbox

DEFAULT_CONFIG: dict[str, Any] = {
    "speed": 60.0,  # HubSpot's retry delays are divided by this
    "duplicate_rate": 0.0,
    "batch_window_ms": 100,
    "max_batch_size": 100,  # hubspot-api.md §3.1: batches of up to 100 events
    "max_concurrent": None,  # None: the app's maxConcurrentRequests (webhooks-hsmeta.json), 10
    "timeout_ms": 5000,  # webhooks: no answer within 5 s is a failure (§3.1)
    "jitter": 0.2,  # HubSpot randomises retry delays; 0 makes them exact
    "max_retries": 10,
    "card_timeout_ms": 15000,  # hubspot.fetch: 15 s (§4.2)
    "workflow_timeout_ms": 20000,  # UNCONFIRMED (§5): 20 s
}
LOG_MAX = 5000
BODY_LOG_CHARS = 4000
# The page a driven install ends on, kept whole enough for a test to read past the settings
# page's stylesheet and tabs.
INSTALL_BODY_KEPT_CHARS = 100_000
USER_AGENTS = {
    "webhook": "HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon",
    "card": "HubSpot-UIExtensions-Fetch (sandbox)",
    "workflow": "HubSpot Connect 2.0 (http://dev.hubspot.com/) - AutomationActions",
}
_AUTHORIZE = re.compile(r"^/oauth/(\d+/)?authorize$")


class Delivery:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.config: dict[str, Any] = dict(DEFAULT_CONFIG)
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_MAX)
        self._log_lock = threading.Lock()
        self._next_id = 1
        self._local = threading.local()
        self.webhooks = Webhooks(self)
        self.workflows = Workflows(self)

    # -- lifecycle ----------------------------------------------------------------------------
    def reset(self) -> None:
        self.config = dict(DEFAULT_CONFIG)
        self.webhooks.reset()
        self.workflows.reset()
        with self._log_lock:
            self.log.clear()
            self._next_id = 1

    def load_config(self, config: dict[str, Any] | None) -> None:
        if config:
            self.config.update({k: v for k, v in config.items() if k in DEFAULT_CONFIG})

    def close(self) -> None:
        self.webhooks.close()

    # -- app settings ---------------------------------------------------------------------------
    def webhook_url(self) -> str | None:
        app = self.sb.store.app
        if app.get("webhook_url"):
            return app["webhook_url"]
        template, base = app.get("webhook_target_template"), app.get("public_base_url")
        if template and base and "${PUBLIC_BASE_URL}" in template:
            return template.replace("${PUBLIC_BASE_URL}", base.rstrip("/"))
        return None

    def max_concurrent(self) -> int:
        value = self.config.get("max_concurrent")
        if value is None:
            value = self.sb.store.app.get("max_concurrent_requests", 10)
        return max(1, int(value))

    def resolve(self, url: str) -> str:
        """`${PUBLIC_BASE_URL}` in project URLs: public_base_url, else card_fetch_base."""
        if "${PUBLIC_BASE_URL}" not in url:
            return url
        app = self.sb.store.app
        base = app.get("public_base_url") or app.get("card_fetch_base")
        if not base:
            raise validation_error(
                "The URL uses ${PUBLIC_BASE_URL}: set public_base_url (or card_fetch_base) "
                "with POST /_sandbox/app"
            )
        return url.replace("${PUBLIC_BASE_URL}", base.rstrip("/"))

    # -- HTTP to the app --------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._log_lock:
            entry["id"] = self._next_id
            self._next_id += 1
            self.log.append(entry)
        return entry

    def post_signed(
        self,
        kind: str,
        hub_id: int,
        method: str,
        url: str,
        body: str,
        timeout: float,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One signed request to the app; the log entry, with `json` (parsed answer) added."""
        secret = self.sb.store.app["client_secret"]
        timestamp = self.sb.clock.now_ms()
        headers = signing.signed_headers(kind, secret, method, url, body, timestamp)
        headers["User-Agent"] = USER_AGENTS[kind]
        if body or method in ("POST", "PUT", "PATCH"):
            headers["Content-Type"] = "application/json"
        if kind == "webhook":
            headers["X-HubSpot-Timeout-Millis"] = str(int(timeout * 1000))
        entry: dict[str, Any] = {
            "kind": kind,
            "portal": hub_id,
            "method": method,
            "url": url,
            "request_headers": headers,
            "request_body": body[:BODY_LOG_CHARS],
            "started_at": time.time(),
            **(extra or {}),
        }
        started = time.monotonic()
        parsed: Any = None
        try:
            response = self._session().request(
                method, url, data=body.encode() if body else None, headers=headers, timeout=timeout
            )
            entry["status"] = response.status_code
            entry["body"] = response.text[:BODY_LOG_CHARS]
            entry["retry_after"] = _retry_after(response.headers.get("Retry-After"))
            try:
                parsed = response.json() if response.content else None
            except ValueError:
                parsed = None
        except requests.Timeout:
            entry["status"] = None
            entry["error"] = "timeout"
        except requests.RequestException as exc:
            entry["status"] = None
            entry["error"] = f"connection failed: {type(exc).__name__}"
            self._local.session = None
        entry["elapsed_ms"] = int((time.monotonic() - started) * 1000)
        self.record(entry)
        return {**entry, "json": parsed}

    def post_webhook(self, batch: Batch) -> bool:
        url = self.webhook_url()
        events = [{**event, "attemptNumber": batch.attempt} for event in batch.events]
        if not url:
            self.record(
                {
                    "kind": "webhook",
                    "portal": batch.hub_id,
                    "error": "no webhook_url configured: events dropped",
                    "events": len(events),
                    "started_at": time.time(),
                }
            )
            return True
        body = json.dumps(events, separators=(",", ":"))
        result = self.post_signed(
            "webhook",
            batch.hub_id,
            "POST",
            url,
            body,
            float(self.config["timeout_ms"]) / 1000,
            {
                "attempt": batch.attempt,
                "duplicate": batch.duplicate,
                "events": len(events),
                "event_ids": [e["eventId"] for e in events],
            },
        )
        status = result.get("status")
        return status is not None and 200 <= status < 300


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


# -- admin routes -------------------------------------------------------------------------------


def _body(ctx: Ctx) -> dict[str, Any]:
    body = ctx.json({}) or {}
    if not isinstance(body, dict):
        raise validation_error("the body must be a JSON object")
    return body


def _portal(ctx: Ctx, hub: Any):
    portal = ctx.sb.store.portal(hub)
    if portal is None:
        raise validation_error(f"unknown portal {hub}")
    return portal


def webhooks_config(ctx: Ctx):
    body = _body(ctx)
    delivery = ctx.sb.delivery
    unknown = sorted(set(body) - set(DEFAULT_CONFIG))
    if unknown:
        raise validation_error(f"unknown settings: {', '.join(unknown)}")
    for key, value in body.items():
        if value is not None and not isinstance(value, int | float):
            raise validation_error(f"{key} must be a number")
    delivery.config.update(body)
    with delivery.webhooks.cond:
        delivery.webhooks.cond.notify_all()
    return webhooks_config_get(ctx)


def webhooks_config_get(ctx: Ctx):
    delivery = ctx.sb.delivery
    return {
        **delivery.config,
        "effective_max_concurrent": delivery.max_concurrent(),
        "webhook_url": delivery.webhook_url(),
        "stats": dict(delivery.webhooks.stats),
        "pending": delivery.webhooks.pending(),
    }


def webhooks_drain(ctx: Ctx):
    body = _body(ctx)
    return ctx.sb.delivery.webhooks.drain(float(body.get("timeout", 10)))


def webhooks_events(ctx: Ctx):
    """Queue hand-written events (e.g. a recorded HubSpot payload) for delivery as they are,
    with defaults for the fields left out."""
    body = _body(ctx)
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise validation_error("events must be a non-empty list")
    with ctx.sb.store.lock:
        portal = _portal(ctx, body.get("portal", 9000001))
        app = ctx.sb.store.app
        filled = []
        for raw in events:
            event = {
                "eventId": portal.next_event_id,
                "subscriptionId": 0,
                "portalId": portal.hub_id,
                "appId": app["app_id"],
                "occurredAt": ctx.sb.clock.now_ms(),
                "attemptNumber": 0,
                **raw,
            }
            portal.next_event_id += 1
            filled.append(event)
    ctx.sb.delivery.webhooks.enqueue(filled)
    return {"queued": len(filled), "events": filled}, 202


def deliveries(ctx: Ctx):
    args = ctx.request.args
    kind, portal = args.get("kind"), args.get("portal")
    with ctx.sb.delivery._log_lock:
        entries = list(ctx.sb.delivery.log)
    return [
        e
        for e in entries
        if (not kind or e["kind"] == kind) and (not portal or str(e.get("portal")) == portal)
    ]


def deliveries_clear(ctx: Ctx):
    with ctx.sb.delivery._log_lock:
        ctx.sb.delivery.log.clear()
    return {"cleared": True}


def card_fetch(ctx: Ctx):
    """One `hubspot.fetch` from the app card: GET/POST… card_fetch_base + path, with the context
    query parameters HubSpot appends (userId, userEmail, associatedObjectId,
    associatedObjectType, portalId, appId: hubspot-api.md Addendum §1), signed v2 + v3; one
    retry on a failed connection or a 5xx; `timeout_ms` (default 15 s)."""
    body = _body(ctx)
    delivery = ctx.sb.delivery
    with ctx.sb.store.lock:
        app = ctx.sb.store.app
        base = app.get("card_fetch_base") or app.get("public_base_url")
        if not base:
            raise validation_error("set card_fetch_base with POST /_sandbox/app first")
        portal = _portal(ctx, body.get("portal", 9000001))
        user = portal.user(body.get("user_id"))
        _name, object_type = object_type_name(str(body.get("object_type", "DEAL")))
        params = [
            ("userId", user["id"]),
            ("userEmail", user["email"]),
            ("associatedObjectId", body.get("object_id", "")),
            ("associatedObjectType", object_type),
            ("portalId", portal.hub_id),
            ("appId", app["app_id"]),
        ]
        if body.get("location") == "settings":
            # The app's settings component (Connected apps → the app → Settings) has no CRM
            # record, so no associated object (a guess: see README, App card).
            params = [p for p in params if not p[0].startswith("associatedObject")]
    path = str(body.get("path") or "/")
    url = base.rstrip("/") + (path if path.startswith("/") else "/" + path)
    url += ("&" if urlsplit(url).query else "?") + urlencode(params)
    method = str(body.get("method") or "GET").upper()
    payload = "" if body.get("body") is None else json.dumps(body["body"], separators=(",", ":"))
    timeout = float(body.get("timeout_ms") or delivery.config["card_timeout_ms"]) / 1000
    attempts = 0
    while True:
        attempts += 1
        result = delivery.post_signed(
            "card", portal.hub_id, method, url, payload, timeout, {"attempt": attempts - 1}
        )
        status = result.get("status")
        failed = result.get("error", "").startswith("connection") or (status or 0) >= 500
        if not failed or attempts >= 2:
            break
    if result.get("error") == "timeout":
        return {
            "error": "timeout",
            "elapsed_ms": result["elapsed_ms"],
            "url": url,
            "attempts": attempts,
        }
    if status is None:
        return {
            "error": result["error"],
            "elapsed_ms": result["elapsed_ms"],
            "url": url,
            "attempts": attempts,
        }
    return {
        "status": status,
        "body": result["json"] if result["json"] is not None else result.get("body"),
        "elapsed_ms": result["elapsed_ms"],
        "url": url,
        "attempts": attempts,
    }


def workflows_execute(ctx: Ctx):
    from sandbox.hubspot.automation import definition_for, refused_object_types

    body = _body(ctx)
    sb = ctx.sb
    with sb.store.lock:
        portal = _portal(ctx, body.get("portal", 9000001))
        definition = definition_for(sb, str(body.get("definition_id", "")))
        if definition is None:
            raise validation_error(
                f"unknown workflow action definition {body.get('definition_id')}"
            )
        if refused_object_types([body.get("object_type", "DEAL")]):
            raise validation_error(
                f"{body.get('object_type')} records cannot be enrolled in workflows in HubSpot"
            )
        name, object_type = object_type_name(str(body.get("object_type", "DEAL")))
        object_id = str(body.get("object_id", ""))
        record = portal.record(name, object_id)
        if record is None:
            raise validation_error(f"{name} {object_id} does not exist in portal {portal.hub_id}")
        wanted = (definition.get("objectRequestOptions") or {}).get("properties")
        properties = (
            {p: record["properties"].get(p) for p in wanted} if wanted is not None else None
        )
        action_url = sb.delivery.resolve(definition["actionUrl"])
        definition = dict(definition)
    timeout = float(sb.delivery.config["workflow_timeout_ms"]) / 1000
    return sb.delivery.workflows.execute(
        portal.hub_id,
        definition,
        object_type,
        object_id,
        body.get("input_fields") or {},
        properties,
        action_url,
        wait_s=float(body.get("wait_s", timeout + 2)),
    )


def workflows_execution(ctx: Ctx, callback_id: str):
    return ctx.sb.delivery.workflows.snapshot(callback_id)


def workflows_executions(ctx: Ctx):
    return ctx.sb.delivery.workflows.all()


def install(ctx: Ctx):
    """A browser with its own cookie jar installs the app: GET start_url, follow redirects; on
    this sandbox's /oauth/authorize it consents for `portal` (sandbox_portal), then follows the
    redirect to the app's callback and on. Without start_url it starts at the authorize URL
    built from the app config (no state)."""
    body = _body(ctx)
    sb = ctx.sb
    with sb.store.lock:
        portal = _portal(ctx, body.get("portal", 9000001))
        app = sb.store.app
        url = body.get("start_url")
        if not url:
            from sandbox.hubspot.oauth import allowed_redirect_uris

            redirects = allowed_redirect_uris(app)
            if not redirects:
                raise validation_error(
                    "set redirect_uri with POST /_sandbox/app, or give start_url"
                )
            url = f"{ctx.base_url}/oauth/authorize?" + urlencode(
                {
                    "client_id": app["client_id"],
                    "redirect_uri": redirects[0],
                    "scope": " ".join(app["required_scopes"]),
                    "optional_scope": " ".join(app["optional_scopes"]),
                }
            )
    history: list[str] = []
    started = time.monotonic()
    response = None
    error = None
    with requests.Session() as browser:
        for _hop in range(20):
            if _AUTHORIZE.match(urlsplit(url).path) and "sandbox_portal=" not in url:
                url += ("&" if urlsplit(url).query else "?") + urlencode(
                    {"sandbox_portal": portal.hub_id}
                    | ({"sandbox_user": body["user_id"]} if body.get("user_id") else {})
                )
            history.append(url)
            try:
                response = browser.get(url, allow_redirects=False, timeout=30)
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
                break
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                continue
            break
        cookies = browser.cookies.get_dict()
    result = {
        "status": response.status_code if response is not None and not error else None,
        "final_url": url,
        "history": history,
        "body": response.text[:INSTALL_BODY_KEPT_CHARS] if response is not None else "",
        "cookies": cookies,
    }
    if error:
        result["error"] = error
    sb.delivery.record(
        {
            "kind": "install",
            "portal": portal.hub_id,
            "method": "GET",
            "url": history[0] if history else url,
            "status": result["status"],
            "history": history,
            "error": error,
            "elapsed_ms": int((time.monotonic() - started) * 1000),
            "started_at": time.time(),
        }
    )
    return result


def routes() -> list[Route]:
    return [
        Route("/_sandbox/install", ["POST"], install, "admin"),
        Route("/_sandbox/card-fetch", ["POST"], card_fetch, "admin"),
        Route("/_sandbox/workflows/execute", ["POST"], workflows_execute, "admin"),
        Route("/_sandbox/workflows/executions", ["GET"], workflows_executions, "admin"),
        Route(
            "/_sandbox/workflows/executions/<callback_id>", ["GET"], workflows_execution, "admin"
        ),
        Route("/_sandbox/webhooks/config", ["GET"], webhooks_config_get, "admin"),
        Route("/_sandbox/webhooks/config", ["POST"], webhooks_config, "admin"),
        Route("/_sandbox/webhooks/drain", ["POST"], webhooks_drain, "admin"),
        Route("/_sandbox/webhooks/events", ["POST"], webhooks_events, "admin"),
        Route("/_sandbox/deliveries", ["GET"], deliveries, "admin"),
        Route("/_sandbox/deliveries", ["DELETE"], deliveries_clear, "admin"),
    ]
