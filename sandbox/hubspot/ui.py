"""A deal as a person sees it in HubSpot, for `make run` and the browser tests: its properties,
stage (with a form that moves it, as dragging the card on the board does: HubSpot then sends
the webhook), line items, notes (their HTML rendered, as HubSpot's timeline shows them) and the
files attached to the notes (links that open them).

    GET  /_sandbox/ui/portals/<hub>/deals/<deal_id>
    POST /_sandbox/ui/portals/<hub>/deals/<deal_id>/stage   (form field `stage`)

Not HubSpot's page: a plain view of the same data the API serves. Note bodies are cleaned to a
small set of formatting tags (HubSpot sanitises note HTML too; its exact list is not public).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from sandbox.hubspot import records
from sandbox.hubspot.admin import _portal, _record, user_source
from sandbox.hubspot.http import ApiError
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.store import Portal

DEAL_FIELDS = (
    ("dealname", "Deal name"),
    ("amount", "Amount"),
    ("deal_currency_code", "Currency"),
    ("closedate", "Close date"),
    ("hubspot_owner_id", "Owner"),
    ("description", "Description"),
)
LINE_FIELDS = (
    ("name", "Name"),
    ("hs_sku", "SKU"),
    ("quantity", "Quantity"),
    ("price", "Unit price"),
    ("hs_discount_percentage", "Discount %"),
    ("amount", "Amount"),
)
ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "span", "div", "small",
    "code", "h1", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object"}

STYLE = (Path(__file__).parent / "ui.css").read_text(encoding="utf-8")


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skip += 1
        elif not self._skip and tag in ALLOWED_TAGS:
            href = dict(attrs).get("href") or ""
            if tag == "a" and href.startswith(("http://", "https://")):
                self.out.append(f'<a href="{html.escape(href)}" rel="noopener noreferrer">')
            else:
                self.out.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skip = max(0, self._skip - 1)
        elif not self._skip and tag in ALLOWED_TAGS and tag not in ("br", "hr"):
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.append(html.escape(data))


def clean_note_html(body: str) -> str:
    cleaner = _Cleaner()
    cleaner.feed(body or "")
    cleaner.close()
    return "".join(cleaner.out)


def _e(value: Any) -> str:
    return html.escape(str(value if value is not None else ""))


def _when(timestamp: str) -> str:
    """HubSpot's ISO timestamp or epoch milliseconds, as a readable UTC time."""
    text = str(timestamp or "")
    try:
        if text.isdigit():
            moment = datetime.fromtimestamp(int(text) / 1000, UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _stage_label(portal: Portal, pipeline_id: str, stage_id: str) -> tuple[str, str]:
    for pipeline in portal.pipelines:
        if pipeline["id"] == pipeline_id:
            for stage in pipeline["stages"]:
                if stage["id"] == stage_id:
                    return pipeline["label"], stage["label"]
            return pipeline["label"], stage_id
    return pipeline_id, stage_id


def _linked(portal: Portal, object_type: str, object_id: str, to_type: str) -> list[dict]:
    found = []
    for linked_id in portal.associated(object_type, object_id, to_type):
        record = portal.record(to_type, linked_id)
        if record is not None:
            found.append(record)
    return found


def _deal_section(portal: Portal, deal: dict[str, Any], hub: int) -> str:
    props = deal["properties"]
    pipeline_id = props.get("pipeline") or ""
    pipeline_label, stage_label = _stage_label(portal, pipeline_id, props.get("dealstage") or "")
    rows = "".join(
        f"<dt>{label}</dt><dd>{_e(props.get(name))}</dd>"
        for name, label in DEAL_FIELDS
        if props.get(name)
    )
    custom = "".join(
        f"<dt>{_e((portal.property('deals', name) or {}).get('label') or name)}</dt>"
        f"<dd>{_e(value)}</dd>"
        for name, value in sorted(props.items())
        if name.startswith("fortnox_") and value
    )
    stages = next((p["stages"] for p in portal.pipelines if p["id"] == pipeline_id), [])
    options = "".join(
        f'<option value="{_e(s["id"])}"{" selected" if s["id"] == props.get("dealstage") else ""}>'
        f"{_e(s['label'])}</option>"
        for s in stages
    )
    action = f"/_sandbox/ui/portals/{hub}/deals/{deal['id']}/stage"
    return (
        f"<section id='deal'><h1>{_e(props.get('dealname') or 'Deal ' + deal['id'])}</h1>"
        f"<p>{_e(pipeline_label)} · <span class='stage' id='stage'>{_e(stage_label)}</span></p>"
        f"<dl>{rows}<dt>Record ID</dt><dd>{_e(deal['id'])}</dd></dl>"
        f"<form method='post' action='{action}'><label for='stage-select'>Move to</label>"
        f"<select id='stage-select' name='stage'>{options}</select>"
        "<button type='submit'>Move deal</button></form></section>"
        + (
            "<section id='fortnox-properties'><h2>Fortnox</h2>"
            f"<dl class='stacked'>{custom}</dl></section>"
            if custom
            else ""
        )
    )


def _associations_section(portal: Portal, deal: dict[str, Any]) -> str:
    items = []
    for to_type, label_key, heading in (
        ("companies", "name", "Company"),
        ("contacts", "email", "Contact"),
    ):
        for record in _linked(portal, "deals", deal["id"], to_type):
            props = record["properties"]
            name = props.get(label_key) or " ".join(
                filter(None, (props.get("firstname"), props.get("lastname")))
            )
            items.append(f"<li>{heading}: {_e(name or record['id'])}</li>")
    body = f"<ul>{''.join(items)}</ul>" if items else "<p class='empty'>None.</p>"
    return f"<section id='associations'><h2>Associated records</h2>{body}</section>"


def _line_items_section(portal: Portal, deal: dict[str, Any]) -> str:
    lines = _linked(portal, "deals", deal["id"], "line_items")
    if not lines:
        return "<section id='line-items'><h2>Line items</h2><p class='empty'>None.</p></section>"
    numeric = {"quantity", "price", "hs_discount_percentage", "amount"}
    head = "".join(
        f"<th{' class=num' if name in numeric else ''}>{label}</th>" for name, label in LINE_FIELDS
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if name in numeric else ''}>{_e(line['properties'].get(name))}</td>"
            for name, _label in LINE_FIELDS
        )
        + "</tr>"
        for line in lines
    )
    return (
        "<section id='line-items'><h2>Line items</h2>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>"
    )


def _notes_section(portal: Portal, deal: dict[str, Any]) -> str:
    notes = _linked(portal, "deals", deal["id"], "notes")
    notes.sort(key=lambda n: n["properties"].get("hs_timestamp") or n["createdAt"], reverse=True)
    parts = []
    for note in notes:
        props = note["properties"]
        files = []
        for file_id in filter(None, (props.get("hs_attachment_ids") or "").split(";")):
            meta = portal.files.get(file_id)
            if meta is not None and not meta["archived"]:
                name = meta["name"] + (f".{meta['extension']}" if meta["extension"] else "")
                files.append(
                    f"<a href='/_sandbox/files/{_e(file_id)}/content' target='_blank'>"
                    f"Attachment: {_e(name)}</a>"
                )
        attachments = f"<p class='attachments'>{''.join(files)}</p>" if files else ""
        parts.append(
            f"<article class='note' id='note-{_e(note['id'])}'>"
            f"<p class='when'>Note · {_e(_when(props.get('hs_timestamp') or note['createdAt']))}"
            "</p>"
            f"<div class='body'>{clean_note_html(props.get('hs_note_body') or '')}</div>"
            f"{attachments}</article>"
        )
    body = "".join(parts) or "<p class='empty'>No notes yet.</p>"
    return f"<section id='notes'><h2>Activity: notes</h2>{body}</section>"


def deal_page(ctx: Ctx, hub: int, deal_id: str) -> Response:
    with ctx.sb.store.lock:
        try:
            portal = _portal(ctx, hub)
            deal = _record(portal, "deals", deal_id)
        except ApiError as exc:
            message = exc.body.get("message", "Not found") if isinstance(exc.body, dict) else ""
            return _page("Not found", f"<section><p>{_e(message)}</p></section>", 404)
        content = (
            "<div class='col'>"
            + _deal_section(portal, deal, hub)
            + _associations_section(portal, deal)
            + "</div><div class='col'>"
            + _line_items_section(portal, deal)
            + _notes_section(portal, deal)
            + "</div>"
        )
        title = deal["properties"].get("dealname") or f"Deal {deal_id}"
        header = f"{portal.name} ({portal.hub_id})"
    return _page(title, content, 200, header)


def deal_move(ctx: Ctx, hub: int, deal_id: str) -> Response:
    """The form on the deal page: move the deal, as a user does on the board (HubSpot then sends
    the stage-change webhook), and show the deal again."""
    stage = ctx.request.form.get("stage") or ""
    with ctx.sb.store.lock:
        try:
            portal = _portal(ctx, hub)
            deal = _record(portal, "deals", deal_id)
            props = records.validate(
                portal, "deals", {"dealstage": stage}, current=deal["properties"]
            )
        except ApiError as exc:
            message = exc.body.get("message", "") if isinstance(exc.body, dict) else ""
            return _page("Not moved", f"<section><p>{_e(message)}</p></section>", 400)
        records.update(ctx.sb, portal, "deals", deal, props, user_source(portal))
    return Response(status=303, headers={"Location": f"/_sandbox/ui/portals/{hub}/deals/{deal_id}"})


def _page(title: str, content: str, status: int, header: str = "") -> Response:
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)} · HubSpot sandbox</title><style>{STYLE}</style></head><body>"
        f"<header><strong>HubSpot sandbox</strong> · {_e(header)}</header>"
        f"<main>{content}</main></body></html>"
    )
    return Response(page, status=status, mimetype="text/html")


def routes() -> list[Route]:
    base = "/_sandbox/ui/portals/<int:hub>/deals/<deal_id>"
    return [
        Route(base, ["GET"], deal_page, "admin"),
        Route(f"{base}/stage", ["POST"], deal_move, "admin"),
    ]
