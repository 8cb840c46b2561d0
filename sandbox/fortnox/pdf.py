"""Invoice and order PDFs, built by hand (no dependency): A4 pages of Helvetica text that any
PDF reader (and pypdf's text extraction) understands."""

from __future__ import annotations

from typing import Any

from sandbox.fortnox.util import to_float

PAGE_W, PAGE_H = 595, 842
LINES_PER_PAGE = 58


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _page_stream(lines: list[tuple[str, int, bool]]) -> bytes:
    out = [b"BT", b"14 TL"]
    y = PAGE_H - 50
    for text, size, bold in lines:
        font = b"/F2" if bold else b"/F1"
        out.append(font + b" %d Tf" % size)
        out.append(b"1 0 0 1 50 %d Tm" % y)
        out.append(b"(" + _escape(text) + b") Tj")
        y -= size + 4
    out.append(b"ET")
    return b"\n".join(out)


def build_pdf(lines: list[tuple[str, int, bool]], title: str = "") -> bytes:
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []
    # 1 catalog, 2 pages, 3 font, 4 bold font, 5 info, then (page, content) pairs
    kids = [6 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % k for k in kids), len(pages))
    )
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    objects.append(b"<< /Title (" + _escape(title) + b") /Producer (Fortnox sandbox) >>")
    for i, page in enumerate(pages):
        stream = _page_stream(page)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_W, PAGE_H, kids[i] + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def money(value: Any) -> str:
    return f"{to_float(value):.2f}"


def document_pdf(company: dict, kind: str, rec: dict) -> bytes:
    """kind: "invoices" or "orders"."""
    invoice = kind == "invoices"
    number = rec["DocumentNumber"]
    heading = (
        ("Kreditfaktura" if rec.get("Credit") == "true" else "Faktura") if invoice else "Order"
    )
    info = company["info"]
    lines: list[tuple[str, int, bool]] = [
        (info.get("CompanyName") or company["name"], 16, True),
        (f"Org.nr {info.get('OrganizationNumber', '')}", 9, False),
        (f"{info.get('Address', '')}, {info.get('ZipCode', '')} {info.get('City', '')}", 9, False),
        ("", 9, False),
        (f"{heading} {number}", 18, True),
        ("", 9, False),
    ]
    if invoice:
        lines += [
            (f"Fakturadatum: {rec.get('InvoiceDate') or ''}", 10, False),
            (f"Förfallodatum: {rec.get('DueDate') or ''}", 10, False),
            (f"OCR: {rec.get('OCR') or ''}", 10, False),
            (f"Betalningsvillkor: {rec.get('TermsOfPayment') or ''}", 10, False),
        ]
    else:
        lines += [
            (f"Orderdatum: {rec.get('OrderDate') or ''}", 10, False),
            (f"Leveransdatum: {rec.get('DeliveryDate') or ''}", 10, False),
        ]
    lines += [
        ("", 9, False),
        (f"Kund {rec.get('CustomerNumber')}: {rec.get('CustomerName') or ''}", 11, True),
    ]
    for part in (
        rec.get("Address1"),
        rec.get("Address2"),
        f"{rec.get('ZipCode') or ''} {rec.get('City') or ''}".strip(),
        rec.get("Country"),
    ):
        if part:
            lines.append((str(part), 10, False))
    if rec.get("YourReference"):
        lines.append((f"Er referens: {rec['YourReference']}", 10, False))
    if rec.get("OurReference"):
        lines.append((f"Vår referens: {rec['OurReference']}", 10, False))
    if rec.get("ExternalInvoiceReference1"):
        lines.append((f"Referens: {rec['ExternalInvoiceReference1']}", 10, False))
    lines += [
        ("", 9, False),
        ("Art.nr | Benämning | Antal | Enhet | À-pris | Moms % | Belopp", 10, True),
    ]
    rows = rec.get("InvoiceRows" if invoice else "OrderRows") or []
    for row in rows:
        qty = row.get("DeliveredQuantity") if invoice else row.get("OrderedQuantity")
        lines.append(
            (
                f"{row.get('ArticleNumber') or '-'} | {(row.get('Description') or '')[:60]} | "
                f"{qty} | {row.get('Unit') or ''} | {money(row.get('Price'))} | "
                f"{row.get('VAT')} | {money(row.get('Total'))}",
                9,
                False,
            )
        )
    vat_by_rate: dict[float, float] = {}
    for row in rows:
        net = to_float(row.get("TotalExcludingVAT", row.get("Total")))
        rate = to_float(row.get("VAT"))
        vat_by_rate[rate] = vat_by_rate.get(rate, 0.0) + net * rate / 100
    currency = rec.get("Currency") or "SEK"
    lines += [("", 9, False), (f"Netto: {money(rec.get('Net'))} {currency}", 10, False)]
    for rate, amount in sorted(vat_by_rate.items()):
        lines.append((f"Moms {rate:g}%: {amount:.2f} {currency}", 10, False))
    lines += [
        (f"Moms totalt: {money(rec.get('TotalVAT'))} {currency}", 10, False),
        (f"Öresavrundning: {money(rec.get('RoundOff'))} {currency}", 10, False),
        (f"Total: {money(rec.get('Total'))} {currency}", 14, True),
    ]
    if rec.get("Remarks"):
        lines += [("", 9, False), (str(rec["Remarks"])[:100], 9, False)]
    return build_pdf(lines, title=f"{heading} {number}")
