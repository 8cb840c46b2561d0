"""The REST API host (api.fortnox.se/3/...): routing, lists, and the handlers per resource.

`resolve` names the resource of a path (for the scope and licence checks), `handle` answers.
Handlers run under the store lock."""

from __future__ import annotations

import json
from datetime import date, datetime
from math import ceil
from typing import Any

from sandbox.fortnox import documents, errors, payments, records
from sandbox.fortnox.documents import INVOICE, KINDS, ORDER
from sandbox.fortnox.errors import ApiError, bad_request, not_found
from sandbox.fortnox.pdf import document_pdf
from sandbox.fortnox.schema import GLOBAL_PARAMS, RESOURCES, Resource
from sandbox.fortnox.util import to_float
from sandbox.fortnox.validation import unwrap

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
REGISTERS = ("units", "termsofpayments", "pricelists", "currencies")


class Result:
    def __init__(
        self, status: int, body: Any, headers: dict[str, str] | None = None, pdf: bool = False
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.pdf = pdf
        self.wrote = False


def resolve(parts: list[str]) -> tuple[str, str] | None:
    """parts: the path split after /3/. Returns (resource name, scope) or None."""
    if not parts:
        return None
    head = parts[0]
    if head == "companyinformation":
        return head, "companyinformation"
    res = RESOURCES.get(head)
    if res is None:
        return None
    return res.name, res.scope


def licence_groups(name: str) -> tuple[tuple[str, ...], ...]:
    res = RESOURCES.get(name)
    return res.licences if res else ()


# -- helpers ---------------------------------------------------------------------------------
def _parse_body(raw: bytes) -> Any:
    if not raw or not raw.strip():
        raise bad_request(errors.BAD_DATA, "Ingen eller felaktig typ av data.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request(
            errors.JSON_SYNTAX, "Error deserializing JSON: JSON_ERROR_SYNTAX"
        ) from None


def _int_param(args: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    if name not in args or args[name] == "":
        return default
    try:
        value = int(args[name])
    except ValueError:
        raise bad_request(
            errors.INVALID_PARAMETER, f"Ogiltig parameter i anropet. ({name})"
        ) from None
    if value < low or (high is not None and value > high):
        raise bad_request(errors.INVALID_PARAMETER, f"Ogiltig parameter i anropet. ({name})")
    return value


def _parse_stamp(value: str, name: str) -> str:
    value = value.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            continue
    raise bad_request(errors.INVALID_PARAMETER, f"Ogiltig parameter i anropet. ({name})")


def _field_text(rec: dict, field: str) -> list[str]:
    if "." in field:
        rows_key, sub = field.split(".", 1)
        return [str(r.get(sub) or "") for r in rec.get(rows_key) or []]
    if field == "Labels":
        return [str(label.get("Id", "")) for label in rec.get("Labels") or []]
    value = rec.get(field)
    return ["" if value is None else str(value)]


def _sort_value(value: Any, numeric_ids: bool) -> tuple:
    if isinstance(value, bool) or value is None:
        return (2, 0, str(value))
    if isinstance(value, (int, float)):
        return (0, float(value), "")
    text = str(value)
    if numeric_ids:
        try:
            return (0, float(text), text)
        except ValueError:
            pass
    return (1, 0, text.lower())


def list_records(
    company: dict,
    res: Resource,
    args: dict[str, str],
    today: date,
    render_item,
    items: list[tuple[str, dict]] | None = None,
) -> dict:
    allowed = GLOBAL_PARAMS | set(res.search) | set(res.exact)
    if res.name in KINDS:
        allowed |= {"fromdate", "todate"}
    if res is RESOURCES["invoices"]:
        allowed |= {"fromfinalpaydate", "tofinalpaydate"}
    for name in args:
        if name not in allowed:
            raise bad_request(errors.INVALID_PARAMETER, f"Ogiltig parameter i anropet. ({name})")
    limit = _int_param(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = _int_param(args, "page", 1, 1, None)
    offset = _int_param(args, "offset", 0, 0, None)
    if items is None:
        items = list(company["data"][res.name].items())
    if "filter" in args:
        name = args["filter"]
        if name not in res.filters:
            raise bad_request(errors.INVALID_FILTER, "Ett ogiltigt filter har använts.")
        if res.name in KINDS:
            kind = KINDS[res.name]
            items = [(k, r) for k, r in items if documents.matches_filter(kind, name, r, today)]
        else:  # active / inactive
            want = name == "active"
            items = [(k, r) for k, r in items if bool(r.get("Active", True)) == want]
    # Every search parameter sent narrows the list (substring, case-insensitive), as the
    # recorded multi-parameter searches show.
    for param, field in res.search.items():
        if param in args and field:
            needle = args[param].lower()
            items = [
                (k, r) for k, r in items if any(needle in t.lower() for t in _field_text(r, field))
            ]
    for param, field in res.exact.items():
        if param in args:
            needle = args[param].lower()
            items = [(k, r) for k, r in items if str(r.get(field)).lower() == needle]
    if "lastmodified" in args:
        since = _parse_stamp(args["lastmodified"], "lastmodified")
        modified = company["modified"][res.name]
        items = [(k, r) for k, r in items if modified.get(k, "") >= since]
    if res.name in KINDS:
        date_field = KINDS[res.name].date_field
        for param, op in (("fromdate", "ge"), ("todate", "le")):
            if param in args:
                bound = _parse_stamp(args[param], param)[:10]
                items = [
                    (k, r)
                    for k, r in items
                    if r.get(date_field)
                    and (r[date_field] >= bound if op == "ge" else r[date_field] <= bound)
                ]
        for param, op in (("fromfinalpaydate", "ge"), ("tofinalpaydate", "le")):
            if param in args:
                bound = _parse_stamp(args[param], param)[:10]
                items = [
                    (k, r)
                    for k, r in items
                    if r.get("FinalPayDate")
                    and (r["FinalPayDate"] >= bound if op == "ge" else r["FinalPayDate"] <= bound)
                ]
    sort_field = res.ident
    if "sortby" in args:
        if args["sortby"] not in res.sortby:
            raise bad_request(errors.INVALID_PARAMETER, "Ogiltig parameter i anropet. (sortby)")
        sort_field = res.sortby[args["sortby"]]
    order = (args.get("sortorder") or "ascending").lower()
    if order not in ("ascending", "descending"):
        raise bad_request(errors.INVALID_PARAMETER, "Ogiltig parameter i anropet. (sortorder)")
    items.sort(
        key=lambda kr: (
            _sort_value(kr[1].get(sort_field), res.numeric_ids),
            records.id_key(kr[0], res.numeric_ids),
        ),
        reverse=order == "descending",
    )
    items = items[offset:]
    total = len(items)
    pages = ceil(total / limit) if total else 0
    chosen = items[(page - 1) * limit : page * limit]
    return {
        "MetaInformation": {"@TotalResources": total, "@TotalPages": pages, "@CurrentPage": page},
        res.list_key: [render_item(rec) for _, rec in chosen],
    }


def _created(res: Resource, body: dict) -> Result:
    return Result(201, body, {"Location": res.location})


def _method_not_allowed() -> ApiError:
    return errors.lower(405, errors.INVALID_PARAMETER, "Metoden stöds inte för resursen.")


def _unknown_path() -> ApiError:
    return errors.upper(404, 2000400, "Kan inte hitta resursen.")


# -- the handler -----------------------------------------------------------------------------
def handle(
    company: dict,
    method: str,
    parts: list[str],
    args: dict[str, str],
    raw_body: bytes,
    base: str,
    today: date,
    stamp: str,
) -> Result:
    head = parts[0]
    if head == "companyinformation":
        if len(parts) != 1:
            raise _unknown_path()
        if method != "GET":
            raise _method_not_allowed()
        return Result(200, {"CompanyInformation": dict(company["info"])})
    res = RESOURCES[head]
    if head in KINDS:
        return _documents(
            company, KINDS[head], res, method, parts[1:], args, raw_body, base, today, stamp
        )
    if head == "accounts":
        if method != "GET":
            raise _method_not_allowed()  # the sandbox keeps a fixed chart (README)
        # State saved before the chart existed has no accounts: an empty chart.
        company["data"].setdefault("accounts", {})
        company["modified"].setdefault("accounts", {})
    if head == "invoicepayments":
        return _payments(company, res, method, parts[1:], args, raw_body, base, today, stamp)
    if head == "prices":
        return _prices(company, res, method, parts[1:], args, raw_body, base, today, stamp)
    return _simple(company, res, method, parts[1:], args, raw_body, base, today, stamp)


def _simple(company, res, method, rest, args, raw_body, base, today, stamp) -> Result:
    kind = res.name

    def render(rec: dict) -> dict:
        if kind == "articles":
            return records.render_article(company, base, rec)
        return records.with_url(base, kind, rec, res.ident)

    def render_item(rec: dict) -> dict:
        if kind == "customers":
            return records.render_customer_item(base, rec)
        if kind == "articles":
            return records.render_article_item(company, base, rec)
        return records.with_url(base, kind, rec, res.ident)

    if not rest:
        if method == "GET":
            return Result(200, list_records(company, res, args, today, render_item))
        if method == "POST":
            obj = unwrap(_parse_body(raw_body), res.key)
            if kind == "customers":
                rec = records.create_customer(company, obj, stamp)
            elif kind == "articles":
                rec = records.create_article(company, obj, stamp)
            else:
                rec = records.create_register(company, kind, obj, stamp)
            return _created(res, {res.key: render(rec)})
        raise _method_not_allowed()
    if len(rest) != 1:
        raise _unknown_path()
    ident = rest[0]
    if kind == "currencies":
        ident = ident.upper()
    if method == "GET":
        return Result(200, {res.key: render(records.get(company, kind, ident))})
    if method == "PUT":
        records.get(company, kind, ident)
        obj = unwrap(_parse_body(raw_body), res.key)
        if kind == "customers":
            rec = records.update_customer(company, ident, obj, stamp)
        elif kind == "articles":
            rec = records.update_article(company, ident, obj, stamp)
        else:
            rec = records.update_register(company, kind, ident, obj, stamp)
        return Result(200, {res.key: render(rec)})
    if method == "DELETE":
        rec = records.get(company, kind, ident)
        _check_delete(company, kind, ident)
        del company["data"][kind][ident]
        company["modified"][kind].pop(ident, None)
        company["settings"].setdefault("deleted", {}).setdefault(kind, []).append(ident)
        del rec
        return Result(204, None)
    raise _method_not_allowed()


def _check_delete(company: dict, kind: str, ident: str) -> None:
    if kind == "customers":
        for doc_kind in ("invoices", "orders"):
            for doc in company["data"][doc_kind].values():
                if doc.get("CustomerNumber") == ident:
                    raise bad_request(
                        errors.DOCUMENT_LOCKED, "Kunden används och kan inte tas bort."
                    )
    if kind == "articles":
        for doc_kind, rows in (("invoices", "InvoiceRows"), ("orders", "OrderRows")):
            for doc in company["data"][doc_kind].values():
                if any(r.get("ArticleNumber") == ident for r in doc.get(rows) or []):
                    raise bad_request(
                        errors.DOCUMENT_LOCKED, "Artikeln används och kan inte tas bort."
                    )


def _documents(company, kind, res, method, rest, args, raw_body, base, today, stamp) -> Result:
    def render(rec: dict) -> dict:
        return documents.render(base, kind, rec)

    if not rest:
        if method == "GET":
            return Result(
                200,
                list_records(
                    company, res, args, today, lambda r: documents.render_item(base, res, r)
                ),
            )
        if method == "POST":
            obj = unwrap(_parse_body(raw_body), res.key)
            rec = documents.create(company, kind, obj, today, stamp)
            return _created(res, {res.key: render(rec)})
        raise _method_not_allowed()
    number = rest[0]
    if len(rest) == 1:
        if method == "GET":
            return Result(200, {res.key: render(records.get(company, kind.name, number))})
        if method == "PUT":
            records.get(company, kind.name, number)
            obj = unwrap(_parse_body(raw_body), res.key)
            rec = documents.update(company, kind, number, obj, today, stamp)
            return Result(200, {res.key: render(rec)})
        raise _method_not_allowed()
    if len(rest) != 2:
        raise _unknown_path()
    action = rest[1]
    rec = records.get(company, kind.name, number)
    if action in ("preview", "print"):
        if method != "GET":
            raise _method_not_allowed()
        if action == "print":
            documents.mark_sent(company, kind, number, stamp)
        pdf = document_pdf(company, kind.name, rec)
        name = f"{'faktura' if kind is INVOICE else 'order'}-{number}.pdf"
        return Result(200, pdf, {"Content-Disposition": f'inline; filename="{name}"'}, pdf=True)
    if action == "email" and method == "GET":
        return Result(200, {res.key: render(documents.mark_sent(company, kind, number, stamp))})
    if method != "PUT":
        raise _method_not_allowed() if action in _ACTIONS[kind.name] else _unknown_path()
    if action not in _ACTIONS[kind.name]:
        raise _unknown_path()
    if action == "externalprint":
        return Result(200, {res.key: render(documents.mark_sent(company, kind, number, stamp))})
    if action == "cancel":
        return Result(200, {res.key: render(documents.cancel(company, kind, number, stamp))})
    if kind is INVOICE and action == "bookkeep":
        return Result(200, {res.key: render(documents.bookkeep(company, number, today, stamp))})
    if kind is INVOICE and action == "credit":
        return Result(200, {res.key: render(documents.credit(company, number, today, stamp))})
    if kind is ORDER and action == "createinvoice":
        invoice = documents.create_invoice_from_order(company, number, today, stamp)
        return Result(200, {"Invoice": documents.render(base, INVOICE, invoice)})
    raise _unknown_path()


_ACTIONS = {
    "invoices": {"bookkeep", "cancel", "credit", "externalprint"},
    "orders": {"createinvoice", "cancel", "externalprint"},
}


def _payments(company, res, method, rest, args, raw_body, base, today, stamp) -> Result:
    payments._table(company)

    def render(rec: dict) -> dict:
        return {res.key: payments.render(base, rec)}

    if not rest:
        if method == "GET":
            return Result(
                200,
                list_records(company, res, args, today, lambda r: payments.render_item(base, r)),
            )
        if method == "POST":
            obj = unwrap(_parse_body(raw_body), res.key)
            return _created(res, render(payments.create(company, obj, today, stamp)))
        raise _method_not_allowed()
    number = rest[0]
    if len(rest) == 1:
        if method == "GET":
            return Result(200, render(payments.get(company, number)))
        if method == "PUT":
            payments.get(company, number)
            obj = unwrap(_parse_body(raw_body), res.key)
            return Result(200, render(payments.update(company, number, obj, stamp)))
        if method == "DELETE":
            payments.delete(company, number, stamp)
            return Result(204, None)
        raise _method_not_allowed()
    if len(rest) == 2 and rest[1] == "bookkeep":
        if method != "PUT":
            raise _method_not_allowed()
        return Result(200, render(payments.bookkeep(company, number, stamp)))
    raise _unknown_path()


def _prices(company, res, method, rest, args, raw_body, base, today, stamp) -> Result:
    def render(rec: dict) -> dict:
        return records.render_price(base, rec)

    if not rest:
        if method == "POST":
            obj = unwrap(_parse_body(raw_body), "Price")
            return _created(res, {"Price": render(records.create_price(company, obj, stamp))})
        if method == "GET":
            return Result(200, list_records(company, _PRICE_LIST, args, today, render))
        raise _method_not_allowed()
    if rest[0] == "sublist":
        if len(rest) != 3 or method != "GET":
            raise _unknown_path()
        pricelist, article = rest[1], rest[2]
        items = [
            (k, r)
            for k, r in company["data"]["prices"].items()
            if r["PriceList"] == pricelist and r["ArticleNumber"] == article
        ]
        return Result(200, list_records(company, _PRICE_LIST, args, today, render, items))
    if len(rest) not in (2, 3):
        raise _unknown_path()
    pricelist, article = rest[0], rest[1]
    from_quantity = rest[2] if len(rest) == 3 else "0"
    try:
        key = records.price_key(pricelist, article, to_float(from_quantity))
    except ValueError:
        raise not_found("prices") from None
    if method == "GET":
        return Result(200, {"Price": render(records.get(company, "prices", key))})
    if method == "PUT":
        records.get(company, "prices", key)
        obj = unwrap(_parse_body(raw_body), "Price")
        return Result(200, {"Price": render(records.update_price(company, key, obj, stamp))})
    if method == "DELETE":
        records.get(company, "prices", key)
        del company["data"]["prices"][key]
        return Result(204, None)
    raise _method_not_allowed()


_PRICE_LIST = Resource(
    name="prices",
    entity="Price",
    list_key="Prices",
    ident="FromQuantity",
    scope="price",
    sortby={},
)
