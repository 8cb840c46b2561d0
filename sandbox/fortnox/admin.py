"""The sandbox's own routes under /_sandbox/ (JSON in and out; never logged)."""

from __future__ import annotations

import copy
import json
from typing import Any

from sandbox.fortnox import records, seed
from sandbox.fortnox.errors import ApiError
from sandbox.fortnox.schema import ALL_SCOPES, LICENCES
from sandbox.fortnox.store import RECORD_KINDS, empty_company


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _summary(company: dict) -> dict[str, Any]:
    return {
        "id": company["id"],
        "name": company["name"],
        "organisation_number": company["organisation_number"],
        "database_number": company["database_number"],
        "licences": list(company["licences"]),
        "scopes_allowed": list(company["scopes_allowed"]),
    }


def _json(raw: bytes) -> dict[str, Any]:
    if not raw or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise AdminError(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise AdminError(400, "body must be a JSON object")
    return data


def handle(app, method: str, path: str, args: dict[str, str], raw: bytes) -> tuple[int, Any]:
    parts = [p for p in path[len("/_sandbox") :].split("/") if p]
    store = app.store
    key = (method, parts[0] if parts else "")

    if key == ("GET", ""):
        return 200, {"routes": ROUTES}
    if key == ("POST", "reset"):
        app.reset()
        return 200, {"reset": True}
    if parts[:1] == ["companies"]:
        if method == "GET" and len(parts) == 1:
            with store.lock:
                return 200, [_summary(c) for c in store.companies.values()]
        if method == "GET" and len(parts) == 2:
            company = store.company(parts[1])
            if company is None:
                raise AdminError(404, f"no company {parts[1]}")
            return 200, _summary(company)
        if method == "POST" and len(parts) == 1:
            return 201, _create_company(app, _json(raw))
    if parts[:1] == ["clients"] and method == "POST" and len(parts) == 1:
        body = _json(raw)
        if not body.get("client_id") or not body.get("client_secret"):
            raise AdminError(400, "client_id and client_secret are required")
        uris = body.get("redirect_uris") or []
        if not isinstance(uris, list):
            raise AdminError(400, "redirect_uris must be a list")
        client = store.add_client(str(body["client_id"]), str(body["client_secret"]), uris)
        app.mark_dirty()
        return 201, dict(client)
    if parts[:1] == ["clients"] and method == "GET" and len(parts) == 1:
        return 200, [dict(c) for c in store.state["clients"].values()]
    if parts == ["tokens"] and method == "POST":
        return 200, _issue_tokens(app, _json(raw))
    if parts == ["tokens", "stats"] and method == "GET":
        return 200, copy.deepcopy(app.token_stats)
    if parts[:1] == ["records"]:
        body = _json(raw) if method in ("PATCH", "POST") else {}
        return _records(app, method, parts[1:], body)
    if parts == ["requests"]:
        if method == "GET":
            return 200, app.request_log.query(args.get("company"), args.get("path_prefix"))
        if method == "DELETE":
            app.request_log.clear()
            return 200, {"cleared": True}
    if parts == ["clock"]:
        if method == "POST":
            body = _json(raw)
            try:
                if "advance_seconds" in body:
                    app.clock.advance(float(body["advance_seconds"]))
                if "offset_seconds" in body:
                    app.clock.set_offset(float(body["offset_seconds"]))
            except (TypeError, ValueError):
                raise AdminError(400, "advance_seconds must be a number") from None
        if method in ("GET", "POST"):
            return 200, {"offset_seconds": app.clock.offset, "now": app.clock.now().isoformat()}
    if parts[:1] == ["faults"]:
        return _faults(app, method, parts[1:], _json(raw) if method == "POST" else {})
    raise AdminError(404, f"no admin route {method} {path}")


def _create_company(app, body: dict[str, Any]) -> dict[str, Any]:
    store = app.store
    name = body.get("name")
    if not name:
        raise AdminError(400, "name is required")
    licences = body.get("licences")
    if licences is None:
        licences = list(LICENCES)
    scopes = body.get("scopes_allowed")
    if scopes is None:
        scopes = list(ALL_SCOPES)
    if not isinstance(licences, list) or not isinstance(scopes, list):
        raise AdminError(400, "licences and scopes_allowed must be lists")
    with store.lock:
        company_id = store.next_company_id()
        number = body.get("organisation_number") or seed.org_number(
            f"55{int(company_id) % 10_000_000:07d}"
        )
        company = empty_company(
            company_id,
            str(name),
            str(number),
            int(body.get("database_number") or 1000000 + int(company_id)),
            [str(x) for x in licences],
            [str(x) for x in scopes],
        )
        store.add_company(company)
        seed.registers(company)
    app.mark_dirty()
    return _summary(company)


def _issue_tokens(app, body: dict[str, Any]) -> dict[str, Any]:
    company = app.store.company(str(body.get("company", "1")))
    if company is None:
        raise AdminError(404, f"no company {body.get('company')}")
    client_id = body.get("client_id") or app.default_client_id
    if app.store.client(client_id) is None:
        raise AdminError(404, f"no client {client_id}")
    scopes = body.get("scopes")
    if scopes is None:
        scopes = list(company["scopes_allowed"])
    if isinstance(scopes, str):
        scopes = scopes.split()
    scopes = app.oauth.granted_scopes(company, [str(s) for s in scopes])
    pair = app.oauth.issue(company["id"], client_id, scopes)
    app.mark_dirty()
    return {
        "access_token": pair["access_token"],
        "refresh_token": pair["refresh_token"],
        "expires_in": pair["expires_in"],
        "scope": pair["scope"],
    }


def _records(app, method: str, parts: list[str], body: dict[str, Any]) -> tuple[int, Any]:
    if len(parts) < 2:
        raise AdminError(404, "use /_sandbox/records/<company>/<resource>[/<id>]")
    company = app.store.company(parts[0])
    if company is None:
        raise AdminError(404, f"no company {parts[0]}")
    kind = parts[1]
    if kind not in RECORD_KINDS:
        raise AdminError(404, f"no resource {kind}; one of {', '.join(RECORD_KINDS)}")
    with app.store.lock:
        # State saved before a resource existed (accounts, payments) has no table for it.
        company["modified"].setdefault(kind, {})
        table = company["data"].setdefault(kind, {})
        if len(parts) == 2 and method == "GET":
            return 200, copy.deepcopy(list(table.values()))
        if len(parts) == 2 and method == "POST" and kind == "articles":
            # Many articles at once (a register of thousands, for paging tests), each created
            # by the API's own rules; not rate limited, not logged.
            items = body.get("articles")
            if not isinstance(items, list):
                raise AdminError(400, 'body must be {"articles": [{...}, ...]}')
            stamp = app.clock.now().strftime("%Y-%m-%d %H:%M:%S")
            try:
                created = [records.create_article(company, dict(a), stamp) for a in items]
            except ApiError as exc:
                raise AdminError(400, json.dumps(exc.body, ensure_ascii=False)) from None
            app.mark_dirty()
            return 201, {"created": len(created)}
        if len(parts) == 3:
            rec = table.get(parts[2])
            if rec is None:
                raise AdminError(404, f"no {kind} record {parts[2]}")
            if method == "GET":
                return 200, copy.deepcopy(rec)
            if method == "PATCH":
                rec.update(body)
                # A change is a change: GET /3/<resource>?lastmodified=... sees it.
                stamp = app.clock.now().strftime("%Y-%m-%d %H:%M:%S")
                records.touch(company, kind, parts[2], stamp)
                app.mark_dirty()
                return 200, copy.deepcopy(rec)
    raise AdminError(405, f"{method} not allowed here")


def _faults(app, method: str, parts: list[str], body: dict[str, Any]) -> tuple[int, Any]:
    faults = app.faults
    if not parts:
        if method == "GET":
            return 200, faults.describe()
        if method == "DELETE":
            faults.clear()
            return 200, faults.describe()
        raise AdminError(405, f"{method} not allowed here")
    if method != "POST" or len(parts) != 1:
        raise AdminError(404, "unknown fault route")
    name = parts[0]
    try:
        if name == "latency":
            faults.set_latency(
                int(body.get("min_ms", 0)), int(body.get("max_ms", body.get("min_ms", 0)))
            )
        elif name == "fail-next":
            faults.add_fail_next(
                int(body.get("count", 1)),
                int(body.get("status", 503)),
                body.get("method"),
                body.get("path_prefix"),
            )
        elif name == "rate-limit-storm":
            faults.start_storm(float(body.get("seconds", 10)))
        elif name == "expire-tokens":
            app.oauth.expire_access_tokens()
        elif name == "revoke-consent":
            company = str(body.get("company", ""))
            if app.store.company(company) is None:
                raise AdminError(404, f"no company {company}")
            app.oauth.revoke_company(company)
        elif name == "commit-then-drop":
            faults.add_drop(int(body.get("count", 1)), body.get("path_prefix"))
        elif name == "article-missing-answer":
            faults.set_article_missing(int(body.get("code", 0)), int(body.get("status", 400)))
        elif name == "commit-then-hold":
            faults.add_hold(
                int(body.get("count", 1)), body.get("path_prefix"), float(body.get("seconds", 30))
            )
        else:
            raise AdminError(404, f"no fault {name}")
    except (TypeError, ValueError):
        raise AdminError(400, "bad fault parameters") from None
    return 200, faults.describe()


ROUTES = [
    "POST /_sandbox/reset",
    "GET|POST /_sandbox/companies",
    "GET|POST /_sandbox/clients",
    "POST /_sandbox/tokens",
    "GET /_sandbox/tokens/stats",
    "GET /_sandbox/records/<company>/<resource>[/<id>]",
    "PATCH /_sandbox/records/<company>/<resource>/<id>",
    'POST /_sandbox/records/<company>/articles {"articles": [...]}',
    "GET|DELETE /_sandbox/requests?company=&path_prefix=",
    "GET|POST /_sandbox/clock",
    "GET|DELETE /_sandbox/faults",
    "POST /_sandbox/faults/latency|fail-next|rate-limit-storm|expire-tokens|revoke-consent|"
    "commit-then-drop|commit-then-hold|article-missing-answer",
]
