"""Fortnox REST API v3 over requests: the only place that sends a request to api.fortnox.se.

Every call goes through the shared retry policy (integrations/calls.py): the attempt's deadline,
pacing under the tenant's rate limit, a fresh token (refreshed once on a 401), 429s repeated
with backoff, and 5xx/timeouts repeated only when repeating is harmless. A create (POST) that was
sent but got no answer, or got a 5xx other than 503, raises FortnoxOutcomeUnknown: the run
engine then looks the document up by its external reference before trying again, so a document
is never created twice. Fortnox's 503 means the request was not processed, so a create answered
503 is repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

from integrations import ratelimit, tokens
from integrations.calls import ApiClient, Call, CallObserver, NoAnswer, Reply, RetryPolicy
from integrations.errors import IntegrationError
from integrations.fortnox.documents import document_shape
from integrations.fortnox.errors import (
    FortnoxError,
    FortnoxLicenceMissing,
    FortnoxNeedsReconnect,
    FortnoxNotFound,
    FortnoxOutcomeUnknown,
    FortnoxScopeMissing,
    FortnoxUnavailable,
    error_for_response,
)
from integrations.fortnox.tokens import FORTNOX_TOKENS
from integrations.models import FortnoxConnection, TokenHolder

logger = logging.getLogger(__name__)

TIMEOUT_S = (5, 30)  # connect, read (PDF rendering can take a while)
PAGE_LIMIT = 500  # Fortnox's maximum `limit` per page
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})
#: Fortnox's code for "Kan inte hitta priset" (no such price), answered with 400 or 404.
PRICE_MISSING = "2000431"
#: Fortnox answers 503 when it did not process the request (so even a create may be repeated).
NOT_PROCESSED = 503

FORTNOX_POLICY = RetryPolicy(service="Fortnox", rate=ratelimit.FORTNOX_RATE, timeout=TIMEOUT_S)


def fortnox_rate_key(connection: TokenHolder) -> str:
    """The connection's rate-limit bucket: Fortnox's tenant is the company (DatabaseNumber);
    a connection made before we stored it falls back to a bucket of its own."""
    kind = "" if isinstance(connection, FortnoxConnection) else f"{connection._meta.label_lower}-"
    tenant = getattr(connection, "database_number", "") or f"{kind}connection-{connection.pk}"
    return ratelimit.fortnox_key(settings.FORTNOX_CLIENT_ID, tenant)


def _sent_nothing(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached Fortnox (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        # requests wraps urllib3's MaxRetryError, whose reason says how the connection failed.
        reason = getattr(exc.args[0], "reason", None)
        return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)  # incl. NewConnection
    return False


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"message": response.text[:500]}


def _segment(value: str) -> str:
    """One path segment, percent-encoded whole (a `/` too): Fortnox asks for URL-encoded path
    data (fortnox-api.md §4.0, FX-formats)."""
    return quote(str(value), safe="")


def _path_safe(value: str) -> bool:
    """True when the value needs no encoding in a path. Whether Fortnox's router accepts an
    encoded `/` (%2F) inside a segment is unconfirmed (issue 13, item 14), so numbers that need
    encoding are found through the list search instead."""
    return _segment(value) == str(value)


def _exact(items: list[dict[str, Any]], field: str, value: str) -> dict[str, Any] | None:
    """The item whose `field` equals `value`: Fortnox's search parameters are substring
    (ILIKE) matches (fortnox-api.md §4.0), so `articlenumber=AB/12` also returns AB/123."""
    return next((item for item in items if str(item.get(field, "")) == str(value)), None)


@dataclass(frozen=True)
class ArticlesPage:
    articles: list[dict[str, Any]]
    total_pages: int


class FortnoxClient(ApiClient):
    policy = FORTNOX_POLICY
    record_service = "fortnox"

    def __init__(
        self,
        connection: TokenHolder,
        *,
        observer: CallObserver | None = None,
        session: requests.Session | None = None,
        token_source: tokens.TokenSource | None = None,
    ) -> None:
        """`connection` is a portal's FortnoxConnection, or another holder of Fortnox tokens
        (the vendor's own company, billing.VendorFortnoxConnection) with its `token_source`:
        the source's model must be the connection's, so a token is never read from another
        table's row of the same id."""
        self.tokens = token_source or FORTNOX_TOKENS
        if not isinstance(connection, self.tokens.model):
            raise TypeError(
                f"A {type(connection).__name__} needs its own token source "
                f"(given the one of {self.tokens.model.__name__})."
            )
        super().__init__(rate_key=fortnox_rate_key(connection), observer=observer)
        self.connection_id = connection.pk
        self.session = session or requests.Session()
        self.base = f"{settings.FORTNOX_API_BASE}/3"

    # -- the vendor's parts of the policy ---------------------------------------------------------
    def _token_get(self) -> str:
        return tokens.access_token_get(self.tokens, self.connection_id)

    def _token_refresh(self, stale_token: str) -> str:
        return tokens.access_token_refresh(self.tokens, self.connection_id, stale_token=stale_token)

    def _refused_after_refresh(self, call: Call, reply: Reply) -> IntegrationError:
        return FortnoxNeedsReconnect(
            _("Fortnox refused the app's fresh authorisation."),
            fix=_("Reconnect Fortnox in the app's settings."),
            status=401,
        )

    def _unreachable(self, failure: NoAnswer) -> IntegrationError:
        return FortnoxUnavailable(
            "Fortnox could not be reached.",
            fix="Wait a few minutes and Replay.",
            service_message=str(failure),
        )

    def _repeatable(self, call: Call, status: int) -> bool:
        return call.idempotent or status == NOT_PROCESSED

    def _outcome_unknown(
        self, call: Call, reply: Reply | None, failure: NoAnswer | None
    ) -> IntegrationError:
        if reply is not None:
            return FortnoxOutcomeUnknown(
                f"Fortnox failed while handling the create request (HTTP {reply.status}).",
                fix="Nothing to do: the app checks and retries.",
                status=reply.status,
            )
        return FortnoxOutcomeUnknown(
            "Fortnox did not answer the create request; it may or may not have been carried out.",
            fix="Nothing to do: the app checks and retries.",
            service_message=str(failure),
        )

    # -- one request --------------------------------------------------------------------------
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
        """One Fortnox request under the retry policy; `resource` names it in error messages
        and licence checks ("invoices")."""
        method = method.upper()
        path = path.lstrip("/")

        def send(token: str, timeout: tuple[float, float]) -> Reply:
            try:
                response = self.session.request(
                    method,
                    f"{self.base}/{path}",
                    params=params,
                    json=json,
                    timeout=timeout,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Accept": "application/json",
                        "Content-Type": "application/json",
                    },
                )
            except requests.RequestException as exc:
                raise NoAnswer(exc, sent=not _sent_nothing(exc)) from None
            return Reply(response.status_code, response.headers, response)

        def error_for(reply: Reply) -> IntegrationError:
            error = error_for_response(reply.status, _json(reply.body), resource)
            self._remember_connection_problem(error)
            return error

        reply = self.call_with_policy(
            Call(
                method=method,
                path=f"/3/{path}",
                send=send,
                error_for=error_for,
                idempotent=method in IDEMPOTENT_METHODS,
            )
        )
        response: requests.Response = reply.body
        # Errors can arrive as JSON on PDF endpoints (fortnox-api.md Addendum §6).
        if pdf and not response.content.startswith(b"%PDF"):
            raise error_for_response(502, _json(response), resource)
        return response

    def _remember_connection_problem(self, error: FortnoxError) -> None:
        """Licence and scope problems show on the settings page (or, for the vendor's company,
        in Django admin) until fixed."""
        if isinstance(error, FortnoxLicenceMissing | FortnoxScopeMissing):
            connection = self.tokens.model.objects.get(pk=self.connection_id)
            connection.record_problem(error.message, error.fix)
            connection.save(
                update_fields=["last_problem", "last_problem_fix", "last_problem_at", "updated_at"]
            )

    # -- helpers ----------------------------------------------------------------------------
    def get(
        self, path: str, wrapper: str, *, resource: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.request("GET", path, resource=resource, params=params).json()[wrapper]

    def _page(
        self, path: str, *, resource: str, page: int, params: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], int]:
        """One page of a list and the number of pages (MetaInformation)."""
        query = {**(params or {}), "page": page, "limit": PAGE_LIMIT}
        body = self.request("GET", path, resource=resource, params=query).json()
        meta = body.get("MetaInformation", {})
        return body, int(meta.get("@TotalPages", 1) or 1)

    def iterate(
        self, path: str, wrapper: str, *, resource: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list, following MetaInformation's pages."""
        page = 1
        while True:
            body, total_pages = self._page(path, resource=resource, page=page, params=params)
            yield from body.get(wrapper, [])
            if page >= total_pages:
                return
            page += 1

    # -- typed methods the features use -------------------------------------------------------
    def company_information(self) -> dict[str, Any]:
        return self.get("companyinformation", "CompanyInformation", resource="companyinformation")

    def currency_get(self, code: str) -> dict[str, Any]:
        """A currency of the company's register (SellRate, BuyRate, Unit...); FortnoxNotFound
        when the register does not have it."""
        return self.get(f"currencies/{_segment(code)}", "Currency", resource="currencies")

    def customer_find(self, number: str) -> dict[str, Any] | None:
        """The customer with exactly this number, as the list shows it (name, organisation
        number, e-mail...), or None: through the list search, so any number works."""
        return _exact(self.customers_search(customernumber=number), "CustomerNumber", number)

    def customer_get(self, number: str) -> dict[str, Any]:
        """The customer card; FortnoxNotFound when there is no such customer. A number that
        needs encoding in a path is first looked up through the list search, so its existence
        never depends on how Fortnox routes an encoded `/`; if the card cannot then be read by
        its path, the list's item is returned."""
        return self._record_get("customers", "Customer", number, lambda: self.customer_find(number))

    def customers_search(self, **params: str) -> list[dict[str, Any]]:
        return list(self.iterate("customers", "Customers", resource="customers", params=params))

    def customer_create(self, customer: dict[str, Any]) -> dict[str, Any]:
        return self.request(
            "POST", "customers", resource="customers", json={"Customer": customer}
        ).json()["Customer"]

    def customer_update(self, number: str, customer: dict[str, Any]) -> dict[str, Any]:
        return self.request(
            "PUT",
            f"customers/{_segment(number)}",
            resource="customers",
            json={"Customer": customer},
        ).json()["Customer"]

    def article_find(self, number: str) -> dict[str, Any] | None:
        """The article with exactly this number, as the list shows it, or None: through the
        list search (`articlenumber=`), so a number with `/` (allowed by Fortnox) works."""
        return _exact(self.articles_search(articlenumber=number), "ArticleNumber", number)

    def article_get(self, number: str) -> dict[str, Any]:
        """The article card; FortnoxNotFound when there is no such article (as customer_get)."""
        return self._record_get("articles", "Article", number, lambda: self.article_find(number))

    def articles_page(self, page: int, **params: str) -> ArticlesPage:
        """One page (PAGE_LIMIT articles) of the article register, 1-based; `params` narrow
        it (e.g. filter="active")."""
        body, total_pages = self._page("articles", resource="articles", page=page, params=params)
        return ArticlesPage(articles=list(body.get("Articles", [])), total_pages=total_pages)

    def articles_search(self, **params: str) -> list[dict[str, Any]]:
        return list(self.iterate("articles", "Articles", resource="articles", params=params))

    def article_create(self, article: dict[str, Any]) -> dict[str, Any]:
        return self.request(
            "POST", "articles", resource="articles", json={"Article": article}
        ).json()["Article"]

    def article_update(self, number: str, article: dict[str, Any]) -> dict[str, Any]:
        """Update the fields given (Fortnox leaves the others as they are, fortnox-api.md §4.0).
        The number cannot change (§4.2), so it is never sent."""
        body = {key: value for key, value in article.items() if key != "ArticleNumber"}
        return self.request(
            "PUT", f"articles/{_segment(number)}", resource="articles", json={"Article": body}
        ).json()["Article"]

    def price_lists(self) -> list[dict[str, Any]]:
        """The company's price lists (Code, Description, PreSelected; scope `price`)."""
        return list(self.iterate("pricelists", "PriceLists", resource="pricelists"))

    def price_get(self, price_list: str, number: str) -> dict[str, Any] | None:
        """The article's first price in the price list (FromQuantity 0), or None when it has
        none there (GET /3/prices/{PriceList}/{ArticleNumber}, fortnox-api.md §5)."""
        try:
            return self.get(
                f"prices/{_segment(price_list)}/{_segment(number)}", "Price", resource="prices"
            )
        except FortnoxError as exc:
            if isinstance(exc, FortnoxNotFound) or exc.code == PRICE_MISSING:
                return None
            raise

    def price_set(self, price_list: str, number: str, price: float) -> dict[str, Any]:
        """Write the article's price in the price list: an update of the first price when one
        exists, else a new one from quantity 0. An article's SalesPrice is read-only; this is
        how Fortnox takes a price (fortnox-api.md §4.2, §5)."""
        if self.price_get(price_list, number) is not None:
            return self.request(
                "PUT",
                f"prices/{_segment(price_list)}/{_segment(number)}",
                resource="prices",
                json={"Price": {"Price": price}},
            ).json()["Price"]
        body = {"ArticleNumber": number, "PriceList": price_list, "FromQuantity": 0, "Price": price}
        return self.request("POST", "prices", resource="prices", json={"Price": body}).json()[
            "Price"
        ]

    def articles_matching(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Active articles whose number or description contains `text` (Fortnox's substring
        search, fortnox-api.md §4.0), numbers first: one page of each search, for a picker."""
        found: dict[str, dict[str, Any]] = {}
        for field in ("articlenumber", "description"):
            page = self.articles_page(1, filter="active", **{field: text})
            for article in page.articles:
                found.setdefault(str(article["ArticleNumber"]), article)
        return list(found.values())[:limit]

    def units(self) -> list[dict[str, Any]]:
        """The company's unit register (Code, Description, CodeEnglish; scope `settings`)."""
        return list(self.iterate("units", "Units", resource="units"))

    def accounts(self, **params: str) -> list[dict[str, Any]]:
        """The chart of accounts of the current financial year (Number, Description, Active,
        VATCode). Needs the `bookkeeping` scope (fortnox-api.md §1.8), which the app does not ask
        for by default: callers check the connection's scopes first."""
        return list(self.iterate("accounts", "Accounts", resource="accounts", params=params))

    def _record_get(self, resource: str, wrapper: str, number: str, find) -> dict[str, Any]:
        if _path_safe(number):
            return self.get(f"{resource}/{number}", wrapper, resource=resource)
        listed = find()
        if listed is None:
            raise FortnoxNotFound(
                f"Fortnox has no {wrapper.lower()} {number}.",
                fix=f"Check the {wrapper.lower()} number in Fortnox.",
                status=404,
            )
        try:
            return self.get(f"{resource}/{_segment(number)}", wrapper, resource=resource)
        except FortnoxNotFound:
            return listed

    def document_create(self, kind: str, document: dict[str, Any]) -> dict[str, Any]:
        """Create an invoice or order (kind: "invoice" | "order", our run kinds)."""
        shape = document_shape(kind)
        return self.request(
            "POST", shape.resource, resource=shape.resource, json={shape.wrapper: document}
        ).json()[shape.wrapper]

    def document_get(self, kind: str, number: str) -> dict[str, Any]:
        shape = document_shape(kind)
        return self.get(
            f"{shape.resource}/{_segment(number)}", shape.wrapper, resource=shape.resource
        )

    def documents_search(self, kind: str, **params: str) -> list[dict[str, Any]]:
        shape = document_shape(kind)
        return list(
            self.iterate(shape.resource, shape.list_wrapper, resource=shape.resource, params=params)
        )

    def document_preview_pdf(self, kind: str, number: str) -> bytes:
        """The PDF without marking the document sent (`print` would set Sent)."""
        shape = document_shape(kind)
        return self.request(
            "GET", f"{shape.resource}/{_segment(number)}/preview", resource=shape.resource, pdf=True
        ).content

    # -- figures (sync/figures.py) ------------------------------------------------------------
    def customer_invoices(self, customer_number: str) -> list[dict[str, Any]]:
        """Every page of the customer's invoices as the list shows them. The `customernumber`
        search is a substring match (customer 1 also finds 10 and 11): only exact matches are
        kept."""
        return [
            item
            for item in self.documents_search("invoice", customernumber=customer_number)
            if str(item.get("CustomerNumber", "")) == str(customer_number)
        ]

    def documents_modified_since(self, kind: str, since: str) -> list[dict[str, Any]]:
        """Every page of the invoices or orders changed since `since` ("YYYY-MM-DD HH:MM",
        Swedish time: fortnox-api.md, second addendum §9), as the list shows them."""
        return self.documents_search(kind, lastmodified=since)
