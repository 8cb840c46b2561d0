"""A document as the bookkeeper sees it in Fortnox's web app, for `make run`: the page the deal
note's link opens in development (FORTNOX_DOCUMENT_URL points here), with the customer, the rows
and the totals, and the document's PDF.

    GET /_sandbox/ui/<database number>/<invoice|order>/<document number>
    GET /_sandbox/ui/<database number>/<invoice|order>/<document number>.pdf

The path mirrors Fortnox's own link (apps.fortnox.se/app/<tenant>/kf/<kind>/<number>, see
FORTNOX_DOCUMENT_URL in the service's README): {tenant} is the company's DatabaseNumber.
Not Fortnox's page: a plain view of the record the API serves, in Swedish as Fortnox's is.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from sandbox.fortnox import pdf
from sandbox.fortnox.util import to_float

KINDS = {"invoice": ("invoices", "InvoiceRows"), "order": ("orders", "OrderRows")}

STYLE = (Path(__file__).parent / "ui.css").read_text(encoding="utf-8")


def money(value: Any) -> str:
    """Swedish format, as Fortnox shows amounts: 1 234,50."""
    return f"{to_float(value):,.2f}".replace(",", " ").replace(".", ",")


def _e(value: Any) -> str:
    return html.escape(str(value if value is not None else ""))


def _company(app, tenant: str) -> dict[str, Any] | None:
    return next(
        (c for c in app.store.companies.values() if str(c["database_number"]) == tenant), None
    )


def handle(app, path: str) -> Response:
    parts = [p for p in path[len("/_sandbox/ui") :].split("/") if p]
    if len(parts) != 3 or parts[1] not in KINDS:
        return _page("Hittades inte", "<section><p>Use /_sandbox/ui/&lt;database number&gt;/"
                     "&lt;invoice|order&gt;/&lt;number&gt;.</p></section>", 404)  # fmt: skip
    tenant, kind, number = parts
    as_pdf = number.endswith(".pdf")
    number = number.removesuffix(".pdf")
    resource, rows_key = KINDS[kind]
    with app.store.lock:
        company = _company(app, tenant)
        record = (company or {}).get("data", {}).get(resource, {}).get(number)
        if company is None or record is None:
            what = "Fakturan" if kind == "invoice" else "Ordern"
            return _page(
                "Hittades inte",
                f"<section><p>{what} {_e(number)} finns inte i företag {_e(tenant)}.</p></section>",
                404,
            )
        if as_pdf:
            return Response(pdf.document_pdf(company, resource, record), mimetype="application/pdf")
        return _page(
            f"{'Faktura' if kind == 'invoice' else 'Order'} {number}",
            _document(kind, record, rows_key, number),
            200,
            company["name"],
        )


def _document(kind: str, rec: dict[str, Any], rows_key: str, number: str) -> str:
    invoice = kind == "invoice"
    heading = "Faktura" if invoice else "Order"
    if invoice and rec.get("Credit") == "true":
        heading = "Kreditfaktura"
    if rec.get("Cancelled"):
        status, done = "Makulerad", True
    elif invoice and rec.get("Booked"):
        status, done = "Bokförd", True
    else:
        status, done = "Utkast (ej bokförd)" if invoice else "Ej fakturerad", False
    currency = rec.get("Currency") or "SEK"
    dates = (
        [("Fakturadatum", rec.get("InvoiceDate")), ("Förfallodatum", rec.get("DueDate")),
         ("OCR", rec.get("OCR")), ("Betalningsvillkor", rec.get("TermsOfPayment"))]
        if invoice
        else [("Orderdatum", rec.get("OrderDate")), ("Leveransdatum", rec.get("DeliveryDate"))]
    )  # fmt: skip
    dates += [
        ("Er referens", rec.get("YourReference")),
        ("Vår referens", rec.get("OurReference")),
        ("Valuta", currency),
    ]
    address = [
        rec.get("Address1"),
        rec.get("Address2"),
        f"{rec.get('ZipCode') or ''} {rec.get('City') or ''}".strip(),
        rec.get("Country"),
    ]
    customer = (
        f"<p><strong>{_e(rec.get('CustomerName'))}</strong>"
        f"<br>Kundnr {_e(rec.get('CustomerNumber'))}"
        + "".join(f"<br>{_e(part)}" for part in address if part)
        + "</p>"
    )
    rows = []
    for row in rec.get(rows_key) or []:
        quantity = row.get("DeliveredQuantity") if invoice else row.get("OrderedQuantity")
        discount = to_float(row.get("Discount"))
        discount_text = (
            ""
            if not discount
            else f"{money(discount)} {'%' if row.get('DiscountType') == 'PERCENT' else currency}"
        )
        rows.append(
            "<tr>"
            f"<td>{_e(row.get('ArticleNumber') or '')}</td><td>{_e(row.get('Description'))}</td>"
            f"<td class='num'>{_e(quantity)}</td><td>{_e(row.get('Unit') or '')}</td>"
            f"<td class='num'>{money(row.get('Price'))}</td>"
            f"<td class='num'>{_e(discount_text)}</td>"
            f"<td class='num'>{_e(row.get('VAT'))} %</td>"
            f"<td class='num'>{money(row.get('Total'))}</td></tr>"
        )
    totals = [
        ("Netto", rec.get("Net")),
        ("Moms", rec.get("TotalVAT")),
        ("Öresavrundning", rec.get("RoundOff")),
    ]
    foot = "".join(
        f"<tr><td colspan='7' class='num'>{label}</td><td class='num'>{money(value)}</td></tr>"
        for label, value in totals
    ) + (
        f"<tr class='total'><td colspan='7' class='num'>Att betala ({_e(currency)})</td>"
        f"<td class='num' id='total'>{money(rec.get('Total'))}</td></tr>"
    )
    return (
        f"<section id='head'><h1>{heading} {_e(number)}</h1>"
        f"<span class='badge{' done' if done else ''}' id='status'>{status}</span> "
        f"<a href='{_e(number)}.pdf' target='_blank'>Förhandsgranska PDF</a></section>"
        "<div class='cols'>"
        f"<section id='customer'><h2>Kund</h2>{customer}</section>"
        "<section id='details'><h2>Uppgifter</h2><dl>"
        + "".join(f"<dt>{label}</dt><dd>{_e(value)}</dd>" for label, value in dates if value)
        + "</dl></section></div>"
        "<section id='rows'><h2>Rader</h2><table><thead><tr><th>Art.nr</th><th>Benämning</th>"
        "<th class='num'>Antal</th><th>Enhet</th><th class='num'>À-pris</th>"
        "<th class='num'>Rabatt</th><th class='num'>Moms</th><th class='num'>Belopp</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody><tfoot>{foot}</tfoot></table></section>"
    )


def _page(title: str, content: str, status: int, company: str = "") -> Response:
    page = (
        "<!doctype html><html lang='sv'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)} · Fortnox sandbox</title><style>{STYLE}</style></head><body>"
        f"<header><strong>Fortnox sandbox</strong> · {_e(company)}</header>"
        f"<main>{content}</main></body></html>"
    )
    return Response(page, status=status, mimetype="text/html")
