"""The app cards' endpoints (issue 16), driven as HubSpot drives them: the HubSpot sandbox's
`card-fetch` signs and sends the request a card's `hubspot.fetch` makes (the card's own query,
then HubSpot's appended values), the live service answers, the worker runs what a button
starts, and the Fortnox sandbox is where documents and customers are checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from sync.models import CardAction, PipelineSetting, Run, SyncSettings
from tests.flows import HUB, OTHER_HUB, Portal, browser_install
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_ID, SALES_ID = 501, 502  # the sandbox portal's super admin and a sales user
# The card's objectType (context.crm.objectTypeId) and HubSpot's associatedObjectType.
HUBSPOT_TYPES = {"0-1": "CONTACT", "0-2": "COMPANY", "0-3": "DEAL"}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def card(
    world,
    path: str,
    object_id: str,
    *,
    object_type: str = "0-2",
    method: str = "GET",
    body: dict | None = None,
    user_id: int = ADMIN_ID,
    hub: int = HUB,
    signed_by_hub: int | None = None,
    locale: str = "en-us",
) -> dict:
    """One `hubspot.fetch` from the card: the card adds portalId, objectType, objectId, userId
    and locale from its context; HubSpot (the sandbox, for `signed_by_hub`) appends its own."""
    query = urlencode(
        {
            "portalId": hub,
            "objectType": object_type,
            "objectId": object_id,
            "userId": user_id,
            "locale": locale,
        }
    )
    return card_fetch(
        world,
        f"{path}?{query}",
        object_id,
        object_type=object_type,
        method=method,
        body=body,
        user_id=user_id,
        hub=signed_by_hub or hub,
    )


def card_fetch(world, path, object_id, *, object_type, method, body, user_id, hub) -> dict:
    answer = world.hubspot_admin(
        "POST",
        "/_sandbox/card-fetch",
        json={
            "portal": hub,
            "user_id": user_id,
            "object_type": HUBSPOT_TYPES[object_type],
            "object_id": object_id,
            "method": method,
            "path": path,
            "body": body,
        },
    )
    assert "status" in answer, answer
    return answer


def no_pipeline(hub: int = HUB) -> None:
    """The portal adds no pipeline: every deal is outside an automatic pipeline."""
    PipelineSetting.objects.filter(settings__installation__hub_id=hub).delete()


def test_update_creates_then_updates_the_fortnox_customer(portal, world):
    company = portal.create(
        "companies", {"name": "Nordljus Konsult AB", "fortnox_organisation_number": "556611-2233"}
    )

    before = card(world, "/hubspot/cards/record", company)
    assert before["status"] == 200, before
    assert before["body"]["state"] == "no_customer"
    assert before["body"]["message"] == "This company has no Fortnox customer yet."
    assert before["body"]["can_act"] is True
    assert before["body"]["customer"] is None

    created = card(world, "/hubspot/cards/record/update", company, method="POST", body={})

    assert created["status"] == 200, created
    answer = created["body"]
    number = portal.record("companies", company)["properties"]["fortnox_customer_number"]
    assert answer["outcome"]["status"] == "succeeded", answer
    assert answer["outcome"]["message"] == f"Fortnox customer {number}, created."
    assert answer["state"] == "not_synced"
    assert answer["customer"]["number"] == number
    assert answer["customer"]["url"].endswith(f"/customer/{number}")
    assert portal.fortnox_record("customers", number)["Name"] == "Nordljus Konsult AB"
    [run] = Run.objects.filter(subject_id=company, trigger=Run.Trigger.CARD)
    assert run.kind == "customer_sync"

    world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{HUB}/objects/companies/{company}",
        json={"properties": {"name": "Nordljus Konsult Aktiebolag"}},
    )
    updated = card(world, "/hubspot/cards/record/update", company, method="POST", body={})

    assert updated["status"] == 200, updated
    assert updated["body"]["outcome"]["status"] == "succeeded", updated["body"]
    assert updated["body"]["outcome"]["message"].startswith(f"Fortnox customer {number}, updated")
    assert portal.fortnox_record("customers", number)["Name"] == "Nordljus Konsult Aktiebolag"
    assert Run.objects.filter(subject_id=company, trigger=Run.Trigger.CARD).count() == 2
    names = [c["Name"] for c in portal.fortnox_records("customers")]
    assert "Nordljus Konsult AB" not in names  # updated, not a second customer

    # Perform Sync reads the customer's invoices: none yet, so the figures are zero.
    synced = card(world, "/hubspot/cards/record/sync", company, method="POST", body={})

    assert synced["status"] == 200, synced
    assert synced["body"]["outcome"]["status"] == "succeeded", synced["body"]
    assert synced["body"]["state"] == "ready"
    assert synced["body"]["figures"]["total_invoiced"] == "0.00"
    assert synced["body"]["invoices"] == []


def test_a_portal_without_fortnox_says_so_with_the_settings_link(world):
    with requests.Session() as browser:
        assert browser_install(world, browser).status_code == 200
    company = Portal(world).create("companies", {"name": "Utan Fortnox AB"})

    answer = card(world, "/hubspot/cards/record", company)

    assert answer["status"] == 200, answer
    assert answer["body"]["state"] == "not_connected"
    assert answer["body"]["message"] == "Fortnox is not connected to this HubSpot account."
    assert answer["body"]["fix"] == "Connect Fortnox on the app's settings page."
    assert answer["body"]["settings_url"] == f"{world.app}/settings/{HUB}/"


def test_the_card_speaks_the_users_language(portal, world):
    company = portal.create("companies", {"name": "Svensk Kund AB"})

    answer = card(world, "/hubspot/cards/record", company, locale="sv-se")

    assert answer["body"]["message"] == "Det här företaget har ingen kund i Fortnox ännu."


def test_requests_for_another_portal_or_its_records_are_refused(portal, world, settings):
    company = portal.create("companies", {"name": "Egen Kund AB"})

    # HubSpot signed for portal 9000002, the card's query says 9000001: two portalIds.
    mixed = card(world, "/hubspot/cards/record", company, signed_by_hub=OTHER_HUB)
    assert mixed["status"] == 403, mixed
    assert mixed["body"]["error"] == "the request names two different values for portalId"

    # A company of portal 9000002 whose id is no company of 9000001.
    other = None
    for _attempt in range(30):
        candidate = Portal(world, hub=OTHER_HUB).create("companies", {"name": "Annan AB"})
        found = requests.get(
            f"{world.hubspot}/_sandbox/portals/{HUB}/objects/companies/{candidate}", timeout=10
        )
        if found.status_code == 404:
            other = candidate
            break
    assert other is not None
    foreign = card(world, "/hubspot/cards/record", other)
    assert foreign["status"] == 403, foreign
    assert foreign["body"]["message"] == (
        f"HubSpot account {HUB} has no such record (company {other}): the app answers only for "
        "records of the account the card is shown in."
    )
    assert not Run.objects.filter(subject_id=other).exists()

    # Signed with another app's secret.
    settings.HUBSPOT_CLIENT_SECRET = "another-apps-secret"
    forged = card(world, "/hubspot/cards/record", company)
    assert forged["status"] == 401
    assert forged["body"] == {"error": "invalid signature"}


def test_a_bad_object_type_names_the_field_and_the_fix(portal, world):
    company = portal.create("companies", {"name": "Kund AB"})
    query = urlencode({"portalId": HUB, "objectType": "0-9", "objectId": company, "userId": 501})

    answer = card_fetch(
        world,
        f"/hubspot/cards/record?{query}",
        company,
        object_type="0-2",
        method="GET",
        body=None,
        user_id=ADMIN_ID,
        hub=HUB,
    )

    assert answer["status"] == 400
    assert answer["body"]["errors"]["objectType"] == [
        "must be one of 0-1 (contact), 0-2 (company), 0-3 (deal), contacts, companies or "
        "deals, as the card's context.crm.objectTypeId gives it."
    ]


def test_a_user_without_the_role_sees_but_cannot_press(portal, world):
    company = portal.create("companies", {"name": "Kund AB"})
    no_pipeline()
    deal = portal.deal([{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}])

    seen = card(world, "/hubspot/cards/record", company, user_id=SALES_ID)
    pressed = card(
        world, "/hubspot/cards/record/update", company, method="POST", body={}, user_id=SALES_ID
    )
    deal_seen = card(world, "/hubspot/cards/deal", deal, object_type="0-3", user_id=SALES_ID)
    created = card(
        world,
        "/hubspot/cards/deal/create",
        deal,
        object_type="0-3",
        method="POST",
        body={"document_type": "invoice"},
        user_id=SALES_ID,
    )

    assert seen["status"] == 200 and seen["body"]["can_act"] is False
    assert deal_seen["body"]["can_act"] is False
    assert deal_seen["body"]["create"]["allowed"] is False
    for refused in (pressed, created):
        assert refused["status"] == 403, refused
        assert refused["body"]["message"] == (
            "Only super admins of this HubSpot account and the users allowed on the Users tab "
            "of the app's settings may use the card's buttons."
        )
        assert "General tab" in refused["body"]["fix"]
    assert not Run.objects.filter(subject_id__in=[company, deal]).exists()

    # Everyone may, once the setting says so.
    SyncSettings.objects.filter(installation__hub_id=HUB).update(card_actions="everyone")
    allowed = card(world, "/hubspot/cards/record", company, user_id=SALES_ID)
    assert allowed["body"]["can_act"] is True


def test_create_now_makes_one_document_and_a_second_click_none(portal, world):
    no_pipeline()
    deal = portal.deal([{"name": "Konsulttimme", "quantity": "2", "price": "500", "hs_sku": "1"}])
    invoices = len(portal.fortnox_records("invoices"))

    shown = card(world, "/hubspot/cards/deal", deal, object_type="0-3")
    assert shown["status"] == 200, shown
    assert shown["body"]["create"] == {
        "allowed": True,
        "again": False,
        "default_type": "invoice",
        "reason": "",
    }

    first = card(
        world,
        "/hubspot/cards/deal/create",
        deal,
        object_type="0-3",
        method="POST",
        body={"document_type": "invoice"},
    )

    assert first["status"] == 200, first
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded", run.error_message
    assert first["body"]["outcome"]["status"] == "succeeded", first["body"]
    assert first["body"]["outcome"]["message"] == (
        f"Invoice {run.fortnox_document_number} was created in Fortnox as a draft."
    )
    assert first["body"]["create"]["allowed"] is False
    [document] = first["body"]["documents"]
    fortnox = portal.fortnox_record("invoices", run.fortnox_document_number)
    assert (document["kind"], document["number"], document["status"]) == (
        "invoice",
        run.fortnox_document_number,
        "draft",
    )
    assert document["total"] == f"{fortnox['Total']:.2f}"
    assert len(portal.fortnox_records("invoices")) == invoices + 1

    # The card's GET answers from the service's own data: no Fortnox call, well within 15 s.
    world.fortnox_admin("DELETE", "/_sandbox/requests")
    shown = card(world, "/hubspot/cards/deal", deal, object_type="0-3")
    assert shown["body"]["documents"][0]["number"] == run.fortnox_document_number
    assert world.fortnox_admin("GET", "/_sandbox/requests?path_prefix=/3/") == []
    assert shown["elapsed_ms"] < 5000

    second = card(
        world,
        "/hubspot/cards/deal/create",
        deal,
        object_type="0-3",
        method="POST",
        body={"document_type": "invoice"},
    )

    assert second["status"] == 409, second
    assert second["body"]["message"] == second["body"]["create"]["reason"]
    assert second["body"]["create"]["reason"] == (
        f"The deal already has Fortnox invoice {run.fortnox_document_number}; the app never "
        "makes a second one. Cancel it in Fortnox first to create the deal's document again."
    )
    assert len(portal.fortnox_records("invoices")) == invoices + 1
    assert Run.objects.filter(subject_id=deal).count() == 1


def test_two_clicks_at_once_make_one_document(portal, world):
    no_pipeline()
    deal = portal.deal([{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}])
    invoices = len(portal.fortnox_records("invoices"))
    answers: list[dict] = []

    def click() -> None:
        answers.append(
            card(
                world,
                "/hubspot/cards/deal/create",
                deal,
                object_type="0-3",
                method="POST",
                body={},
            )
        )

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()

    assert sorted(a["status"] for a in answers) == [200, 409], answers
    wait_for_runs(deal)
    assert len(portal.fortnox_records("invoices")) == invoices + 1


def test_create_now_is_not_offered_in_an_automatic_pipeline(portal, world):
    deal = portal.deal([{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}])

    shown = card(world, "/hubspot/cards/deal", deal, object_type="0-3")
    pressed = card(
        world, "/hubspot/cards/deal/create", deal, object_type="0-3", method="POST", body={}
    )

    assert shown["body"]["create"]["allowed"] is False
    assert shown["body"]["create"]["reason"] == (
        "Deals of pipeline Sales Pipeline get their Fortnox invoice automatically when they "
        "reach Closed Won; Create now is for deals outside such a pipeline."
    )
    assert pressed["status"] == 409
    assert not Run.objects.filter(subject_id=deal).exists()


def test_create_again_after_the_draft_was_cancelled_in_fortnox(portal, world):
    no_pipeline()
    deal = portal.deal([{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}])
    first = card(
        world, "/hubspot/cards/deal/create", deal, object_type="0-3", method="POST", body={}
    )
    assert first["status"] == 200, first
    [run] = wait_for_runs(deal)
    invoices = len(portal.fortnox_records("invoices"))

    # Finance cancels the draft in Fortnox to correct the deal.
    cancelled = portal.fortnox_api("PUT", f"invoices/{run.fortnox_document_number}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    card(world, "/hubspot/cards/deal/sync", deal, object_type="0-3", method="POST", body={})
    shown = card(world, "/hubspot/cards/deal", deal, object_type="0-3")
    assert shown["body"]["create"]["allowed"] is True
    assert shown["body"]["create"]["again"] is True
    assert shown["body"]["documents"][0]["status"] == "cancelled"

    again = card(
        world, "/hubspot/cards/deal/create", deal, object_type="0-3", method="POST", body={}
    )
    twice = card(
        world, "/hubspot/cards/deal/create", deal, object_type="0-3", method="POST", body={}
    )

    assert again["status"] == 200, again
    assert twice["status"] == 409, twice
    runs = wait_for_runs(deal, count=2)
    assert [r.trigger_key for r in runs] == ["card:0", "card:1"]
    assert len(portal.fortnox_records("invoices")) == invoices + 1


def test_replay_of_a_failed_run_from_the_card(portal, world):
    no_pipeline()
    deal = portal.deal([{"name": "Widget", "quantity": "1", "price": "100", "hs_sku": "WIDGET"}])
    card(world, "/hubspot/cards/deal/create", deal, object_type="0-3", method="POST", body={})
    [failed] = wait_for_runs(deal)
    assert failed.status == "failed"
    shown = card(world, "/hubspot/cards/deal", deal, object_type="0-3")
    assert shown["body"]["last_run"]["id"] == failed.pk
    assert shown["body"]["last_run"]["status"] == "failed"
    assert shown["body"]["last_run"]["can_replay"] is True
    assert shown["body"]["last_run"]["trigger"] == "App card"
    assert shown["body"]["last_run"]["message"] == failed.error_message
    assert shown["body"]["last_run"]["fix"] == failed.error_fix
    portal.fortnox_api(
        "POST", "articles", json={"Article": {"ArticleNumber": "WIDGET", "Description": "Widget"}}
    )

    replayed = card(
        world,
        "/hubspot/cards/deal/replay",
        deal,
        object_type="0-3",
        method="POST",
        body={"run_id": failed.pk},
    )

    assert replayed["status"] == 200, replayed
    runs = wait_for_runs(deal, count=2)
    assert [r.status for r in runs] == ["failed", "succeeded"]
    assert runs[1].replay_of_id == failed.pk
    assert replayed["body"]["outcome"]["action"] == "replay"
    again = card(
        world,
        "/hubspot/cards/deal/replay",
        deal,
        object_type="0-3",
        method="POST",
        body={"run_id": failed.pk},
    )
    assert again["status"] == 409


def test_a_slow_press_answers_busy_and_the_card_polls(portal, world):
    company = portal.create("companies", {"name": "Långsam AB"})
    # Fortnox answers each call after 5 s: the customer sync's calls outlast the card's wait.
    world.fortnox_admin("POST", "/_sandbox/faults/latency", json={"min_ms": 5000, "max_ms": 5000})

    pressed = card(world, "/hubspot/cards/record/update", company, method="POST", body={})

    world.fortnox_admin("DELETE", "/_sandbox/faults")
    assert pressed["status"] == 200, pressed
    assert pressed["body"]["busy"] is True
    assert pressed["body"]["outcome"]["status"] == "running"
    assert pressed["body"]["outcome"]["message"] == (
        "Still working: Fortnox is taking a while. This card updates when it is done."
    )
    deadline = time.monotonic() + 30
    while True:
        polled = card(world, "/hubspot/cards/record", company)
        if not polled["body"]["busy"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert polled["body"]["busy"] is False
    assert polled["body"]["outcome"]["status"] == "succeeded"
    assert CardAction.objects.get(subject_id=company).status == "succeeded"


def test_a_card_request_signed_over_fully_decoded_values_is_answered(
    portal, world, settings, caplog
):
    """HubSpot's sandbox signs the documented way; real card traffic has been seen signed over
    percent-decoded query values. Signed here by hand, per HubSpot's v3 recipe."""
    caplog.set_level(logging.INFO, logger="portals.views_cards")
    company = portal.create("companies", {"name": "Avkodad AB"})
    path = "/hubspot/cards/record?" + urlencode(
        {
            "portalId": HUB,
            "objectType": "0-2",
            "objectId": company,
            "userId": ADMIN_ID,
            "userEmail": "admin+kort@sandbox.example",
        }
    )
    decoded = (
        f"{world.app}/hubspot/cards/record?portalId={HUB}&objectType=0-2&objectId={company}"
        f"&userId={ADMIN_ID}&userEmail=admin+kort@sandbox.example"
    )
    timestamp = str(int(time.time() * 1000))
    source = f"GET{decoded}{timestamp}".encode()
    signature = base64.b64encode(
        hmac.new(settings.HUBSPOT_CLIENT_SECRET.encode(), source, hashlib.sha256).digest()
    ).decode()

    answer = requests.get(
        world.app + path,
        headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp},
        timeout=15,
    )
    tampered = requests.get(
        world.app + path.replace(company, str(int(company) + 1)),
        headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp},
        timeout=15,
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "no_customer"
    assert tampered.status_code == 401
    [logged] = [r for r in caplog.records if r.getMessage() == "card request"]
    assert (logged.portal, logged.signature) == (HUB, "fully_decoded")


def test_a_bad_button_body_names_the_field(portal, world):
    no_pipeline()
    deal = portal.deal([{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}])

    wrong_type = card(
        world,
        "/hubspot/cards/deal/create",
        deal,
        object_type="0-3",
        method="POST",
        body={"document_type": "quote"},
    )
    no_run = card(
        world, "/hubspot/cards/deal/replay", deal, object_type="0-3", method="POST", body={}
    )

    assert wrong_type["status"] == 400
    assert wrong_type["body"] == {"errors": {"document_type": ["must be invoice or order."]}}
    assert no_run["status"] == 400
    assert no_run["body"] == {"errors": {"run_id": ["is required."]}}
    assert not Run.objects.filter(subject_id=deal).exists()
