"""The HubSpot sandbox's deal page (sandbox/hubspot/ui.py): what `make run` links to."""

from __future__ import annotations

import json

import requests

from sandbox.driver import HUB, Portal, World, visible_text


def _world(hubspot_url: str) -> World:
    return World(app="http://127.0.0.1:9", hubspot=hubspot_url, fortnox="http://127.0.0.1:9")


def _upload_pdf(hubspot_url: str) -> str:
    token = requests.post(f"{hubspot_url}/_sandbox/tokens", json={"portal": HUB}, timeout=5)
    uploaded = requests.post(
        f"{hubspot_url}/files/v3/files",
        files={"file": ("Faktura 1001.pdf", b"%PDF-1.4 demo", "application/pdf")},
        data={"folderPath": "/fortnox", "options": json.dumps({"access": "PRIVATE"})},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=5,
    )
    assert uploaded.status_code == 201, uploaded.text
    return uploaded.json()["id"]


def test_the_deal_page_shows_properties_line_items_rendered_notes_and_their_pdfs(hubspot_url):
    portal = Portal(_world(hubspot_url))
    company = portal.create("companies", {"name": "Demo Kund AB"})
    deal = portal.deal(
        [
            {"name": "Konsulttimme", "quantity": "3", "price": "1200", "hs_sku": "K1"},
            {"name": "Licens", "quantity": "1", "price": "500", "hs_discount_percentage": "10"},
        ],
        company=company,
        name="Demo <deal>",
    )
    file_id = _upload_pdf(hubspot_url)
    portal.create(
        "notes",
        {
            "hs_timestamp": "2026-11-27T10:00:00Z",
            "hs_note_body": "<p><strong>Fortnox invoice 1001</strong> created</p>"
            "<script>alert(1)</script><p onclick='x()'>Total 4 950,00 kr</p>",
            "hs_attachment_ids": file_id,
        },
        [("deals", deal, 214)],
    )

    page = requests.get(f"{hubspot_url}/_sandbox/ui/portals/{HUB}/deals/{deal}", timeout=5)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    text = visible_text(page.text)
    assert "Demo <deal>" in text  # escaped, shown as typed
    assert "<deal>" not in page.text
    assert "Sales Pipeline" in text and "Appointment Scheduled" in text
    assert "Company: Demo Kund AB" in text
    assert "Konsulttimme K1 3 1200" in text
    assert "Licens 1 500 10" in text
    # The note's HTML is rendered (its formatting kept), never its scripts or handlers.
    assert "<strong>Fortnox invoice 1001</strong> created" in page.text
    assert "Total 4 950,00 kr" in text
    assert "alert(1)" not in page.text and "onclick" not in page.text
    link = f"/_sandbox/files/{file_id}/content"
    assert f"href='{link}'" in page.text and "Faktura 1001.pdf" in text
    pdf = requests.get(f"{hubspot_url}{link}", timeout=5)
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content == b"%PDF-1.4 demo"


def test_the_move_form_moves_the_deal_as_a_user_on_the_board(hubspot_url):
    portal = Portal(_world(hubspot_url))
    deal = portal.deal([], name="To move")

    moved = requests.post(
        f"{hubspot_url}/_sandbox/ui/portals/{HUB}/deals/{deal}/stage",
        data={"stage": "closedwon"},
        timeout=5,
    )

    assert moved.status_code == 200  # followed the redirect back to the deal
    assert moved.url.endswith(f"/_sandbox/ui/portals/{HUB}/deals/{deal}")
    assert "Closed Won" in visible_text(moved.text)
    assert portal.record("deals", deal)["properties"]["dealstage"] == "closedwon"


def test_an_unknown_deal_or_stage_is_said_plainly(hubspot_url):
    portal = Portal(_world(hubspot_url))
    deal = portal.deal([], name="Stays")

    missing = requests.get(f"{hubspot_url}/_sandbox/ui/portals/{HUB}/deals/424242", timeout=5)
    assert missing.status_code == 404
    assert "deals 424242 does not exist" in visible_text(missing.text)
    refused = requests.post(
        f"{hubspot_url}/_sandbox/ui/portals/{HUB}/deals/{deal}/stage",
        data={"stage": "nosuchstage"},
        timeout=5,
    )
    assert refused.status_code == 400
    assert "nosuchstage" in visible_text(refused.text)
    assert portal.record("deals", deal)["properties"]["dealstage"] == "appointmentscheduled"
