"""Fortnox REST API v3 over requests: the only place that sends a request to api.fortnox.se.

Every call is paced under the tenant's rate limit, carries a fresh token (refreshed once on a
401), is retried on 429 with backoff, and on 5xx/timeouts only when repeating it is harmless.
A create (POST) that was sent but got no answer raises FortnoxOutcomeUnknown: the run engine
then looks the document up by its external reference before trying again, so a document is
never created twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import requests
from django.conf import settings

from integrations import ratelimit
from integrations.calls import CallObserver, CallRecord, backoff_seconds
from integrations.fortnox.errors import (
    FortnoxError,
    FortnoxLicenceMissing,
    FortnoxNeedsReconnect,
    FortnoxOutcomeUnknown,
    FortnoxScopeMissing,
    FortnoxUnavailable,
    error_for_response,
)
from integrations.fortnox.tokens import fortnox_access_token_get, fortnox_access_token_refresh
from integrations.models import FortnoxConnection

logger = logging.getLogger(__name__)

TIMEOUT_S = (5, 30)  # connect, read (PDF rendering can take a while)
MAX_ATTEMPTS_RATE_LIMITED = 6
MAX_ATTEMPTS_UNAVAILABLE = 4
PAGE_LIMIT = 500  # Fortnox's maximum `limit` per page
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})


def _sent_nothing(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached Fortnox (so even a POST may be repeated)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc)
        return "NewConnectionError" in text or "Connection refused" in text
    return False


class FortnoxClient:
    def __init__(
        self,
        connection: FortnoxConnection,
        *,
        observer: CallObserver | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.connection_id = connection.pk
        tenant = connection.database_number or f"connection-{connection.pk}"
        self.rate_key = f"fortnox:{settings.FORTNOX_CLIENT_ID}:{tenant}"
        self.observer = observer
        self.session = session or requests.Session()
        self.base = f"{settings.FORTNOX_API_BASE}/3"

    # -- the one request loop -------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        resource: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        pdf: bool = False,
    ) -> requests.Response:
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS
        token = fortnox_access_token_get(self.connection_id)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            waited = ratelimit.pace(self.rate_key, ratelimit.FORTNOX_RATE)
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    f"{self.base}/{path.lstrip('/')}",
                    params=params,
                    json=json,
                    timeout=TIMEOUT_S,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Accept": "application/json",
                        "Content-Type": "application/json",
                    },
                )
            except requests.RequestException as exc:
                self._record(method, path, None, started, attempt, type(exc).__name__, waited)
                if not idempotent and not _sent_nothing(exc):
                    raise FortnoxOutcomeUnknown(
                        "Fortnox did not answer the create request; it may or may not have "
                        "been carried out.",
                        fix="Nothing to do: the app checks and retries.",
                        service_message=type(exc).__name__,
                    ) from None
                if attempt >= MAX_ATTEMPTS_UNAVAILABLE:
                    raise FortnoxUnavailable(
                        "Fortnox could not be reached.",
                        fix="Wait a few minutes and Replay.",
                        service_message=type(exc).__name__,
                    ) from None
                time.sleep(backoff_seconds(attempt, 0.5, 8))
                continue

            status = response.status_code
            self._record(method, path, status, started, attempt, "", waited)
            if status == 401 and not refreshed:
                # Expired early or revoked: refresh once (under the lock) and repeat.
                token = fortnox_access_token_refresh(self.connection_id, stale_token=token)
                refreshed = True
                continue
            if status == 401:
                raise FortnoxNeedsReconnect(
                    "Fortnox refused the app's fresh authorisation.",
                    fix="Reconnect Fortnox in the app's settings.",
                    status=401,
                )
            if status == 429:
                if attempt >= MAX_ATTEMPTS_RATE_LIMITED:
                    raise error_for_response(429, self._json(response), resource)
                # The body and headers of Fortnox's 429 are undocumented (fortnox-api.md
                # Addendum §1): honour Retry-After if it ever appears, else back off.
                retry_after = response.headers.get("Retry-After", "")
                delay = (
                    float(retry_after)
                    if retry_after.replace(".", "", 1).isdigit()
                    else backoff_seconds(attempt, 1.0, 10.0)
                )
                time.sleep(delay)
                continue
            if status >= 500:
                # 503 means "not processed"; other 5xx on a create leave the outcome unknown.
                if not idempotent and status != 503:
                    raise FortnoxOutcomeUnknown(
                        f"Fortnox failed while handling the create request (HTTP {status}).",
                        fix="Nothing to do: the app checks and retries.",
                        status=status,
                    )
                if attempt >= MAX_ATTEMPTS_UNAVAILABLE:
                    raise error_for_response(status, self._json(response), resource)
                time.sleep(backoff_seconds(attempt, 1.0, 15.0))
                continue
            if status >= 400:
                error = error_for_response(status, self._json(response), resource)
                self._remember_connection_problem(error)
                raise error
            if pdf:
                return self._checked_pdf(response, resource)
            return response

    def _checked_pdf(self, response: requests.Response, resource: str) -> requests.Response:
        # Errors can arrive as JSON on PDF endpoints (fortnox-api.md Addendum §6).
        if not response.content.startswith(b"%PDF"):
            raise error_for_response(502, self._json(response), resource)
        return response

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return {"message": response.text[:500]}

    def _record(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        attempt: int,
        error: str,
        waited: float,
    ) -> None:
        if self.observer:
            self.observer(
                CallRecord(
                    "fortnox",
                    method,
                    f"/3/{path.lstrip('/')}",
                    status,
                    int((time.monotonic() - started) * 1000),
                    attempt,
                    error,
                    int(waited * 1000),
                )
            )

    def _remember_connection_problem(self, error: FortnoxError) -> None:
        """Licence and scope problems show on the settings page until fixed."""
        if isinstance(error, FortnoxLicenceMissing | FortnoxScopeMissing):
            connection = FortnoxConnection.objects.get(pk=self.connection_id)
            connection.record_problem(error.message, error.fix)
            connection.save(
                update_fields=["last_problem", "last_problem_fix", "last_problem_at", "updated_at"]
            )

    # -- helpers ----------------------------------------------------------------------------
    def get(
        self, path: str, wrapper: str, *, resource: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.request("GET", path, resource=resource, params=params).json()[wrapper]

    def iterate(
        self, path: str, wrapper: str, *, resource: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list, following MetaInformation's pages."""
        page = 1
        while True:
            query = {**(params or {}), "page": page, "limit": PAGE_LIMIT}
            body = self.request("GET", path, resource=resource, params=query).json()
            yield from body.get(wrapper, [])
            meta = body.get("MetaInformation", {})
            if page >= int(meta.get("@TotalPages", 1) or 1):
                return
            page += 1

    # -- typed methods the features use -------------------------------------------------------
    def company_information(self) -> dict[str, Any]:
        return self.get("companyinformation", "CompanyInformation", resource="companyinformation")

    def customer_get(self, number: str) -> dict[str, Any]:
        return self.get(f"customers/{number}", "Customer", resource="customers")

    def customers_search(self, **params: str) -> list[dict[str, Any]]:
        return list(self.iterate("customers", "Customers", resource="customers", params=params))

    def customer_create(self, customer: dict[str, Any]) -> dict[str, Any]:
        return self.request(
            "POST", "customers", resource="customers", json={"Customer": customer}
        ).json()["Customer"]

    def customer_update(self, number: str, customer: dict[str, Any]) -> dict[str, Any]:
        return self.request(
            "PUT", f"customers/{number}", resource="customers", json={"Customer": customer}
        ).json()["Customer"]

    def article_get(self, number: str) -> dict[str, Any]:
        return self.get(f"articles/{number}", "Article", resource="articles")

    def articles_search(self, **params: str) -> list[dict[str, Any]]:
        return list(self.iterate("articles", "Articles", resource="articles", params=params))

    def article_create(self, article: dict[str, Any]) -> dict[str, Any]:
        return self.request(
            "POST", "articles", resource="articles", json={"Article": article}
        ).json()["Article"]

    def document_create(self, kind: str, document: dict[str, Any]) -> dict[str, Any]:
        """kind: 'invoices' or 'orders'."""
        wrapper = _WRAPPERS[kind]
        return self.request("POST", kind, resource=kind, json={wrapper: document}).json()[wrapper]

    def document_get(self, kind: str, number: str) -> dict[str, Any]:
        return self.get(f"{kind}/{number}", _WRAPPERS[kind], resource=kind)

    def documents_search(self, kind: str, **params: str) -> list[dict[str, Any]]:
        return list(self.iterate(kind, _WRAPPERS[kind] + "s", resource=kind, params=params))

    def document_preview_pdf(self, kind: str, number: str) -> bytes:
        """The PDF without marking the document sent (`print` would set Sent)."""
        return self.request("GET", f"{kind}/{number}/preview", resource=kind, pdf=True).content


_WRAPPERS = {"invoices": "Invoice", "orders": "Order"}
