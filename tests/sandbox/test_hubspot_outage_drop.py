"""The HubSpot sandbox's outage and commit-then-drop faults, as a client sees them."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.hubspot.testing import admin, token

HUB = 9000001
DEAL = "10015"


def _note(base: str, headers: dict[str, str], text: str) -> requests.Response:
    return requests.post(
        f"{base}/crm/v3/objects/notes",
        headers=headers,
        json={
            "properties": {"hs_timestamp": "1700000000000", "hs_note_body": text},
            "associations": [
                {
                    "to": {"id": DEAL},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}],
                }
            ],
        },
        timeout=5,
    )


def _deal_notes(base: str) -> list[str]:
    deal = admin(base, "GET", f"/_sandbox/portals/{HUB}/objects/deals/{DEAL}")
    return [str(n) for n in (deal.get("associations") or {}).get("notes", [])]


def test_an_outage_answers_503_on_its_paths_until_it_ends(hubspot_url):
    headers = {"Authorization": f"Bearer {token(hubspot_url)}"}
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/faults/outage",
        json={"seconds": 1, "path_prefix": "/crm/v3/objects/deals"},
    )
    deal_url = f"{hubspot_url}/crm/v3/objects/deals/{DEAL}"
    down = requests.get(deal_url, headers=headers, timeout=5)
    assert down.status_code == 503
    assert down.json()["category"] == "INTERNAL_ERROR"
    # Other paths answer as usual during the outage.
    assert requests.get(
        f"{hubspot_url}/crm/v3/objects/contacts/10005", headers=headers, timeout=5
    ).ok
    assert admin(hubspot_url, "GET", "/_sandbox/faults")["outages"][0]["seconds_left"] > 0
    time.sleep(1.1)
    assert requests.get(deal_url, headers=headers, timeout=5).status_code == 200
    assert admin(hubspot_url, "GET", "/_sandbox/faults")["outages"] == []


def test_commit_then_drop_stores_the_note_and_sends_no_answer(hubspot_url):
    headers = {"Authorization": f"Bearer {token(hubspot_url)}"}
    before = _deal_notes(hubspot_url)
    admin(
        hubspot_url,
        "POST",
        "/_sandbox/faults/commit-then-drop",
        json={"count": 1, "path_prefix": "/crm/v3/objects/notes"},
    )
    with pytest.raises(requests.ConnectionError):
        _note(hubspot_url, headers, "<p>stored, answer lost</p>")
    stored = [n for n in _deal_notes(hubspot_url) if n not in before]
    assert len(stored) == 1  # HubSpot kept it although the caller never heard back
    log = admin(hubspot_url, "GET", "/_sandbox/requests?path_prefix=/crm/v3/objects/notes")
    assert log[-1]["dropped"] is True and log[-1]["status"] == 201
    # The rule is used up: the next note gets its answer.
    assert _note(hubspot_url, headers, "<p>answered</p>").status_code == 201
    assert len([n for n in _deal_notes(hubspot_url) if n not in before]) == 2
