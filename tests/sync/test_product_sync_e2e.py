"""HubSpot products → Fortnox articles on their own (issue 15), through both sandboxes: a product
created, changed, archived or restored in HubSpot reaches the app as a signed webhook, a run of
kind product sync creates or updates the article, and the test reads back what a bookkeeper sees
in Fortnox (the article, its price in price list A) and what HubSpot shows (the workflow's
outputs, the note on the deal)."""

from __future__ import annotations

import time

import pytest
import requests

from integrations.models import HubSpotInstallation
from sync.models import Run, RunKind, RunStep, SyncSettings, WebhookEvent
from tests.flows import Portal, visible_text, webhook_events_decided
from tests.portals.settings_forms import signed_in
from tests.sync.test_rules_e2e import workflow_execute
from tests.sync.test_runs_e2e import SHARED_TOOLS, portal_ready, requests_audited, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

ACTION = "fortnox_sync_deal_products"  # the uid in sync-deal-products-hsmeta.json


def _settings(hub: int, **values) -> None:
    installation = HubSpotInstallation.objects.get(hub_id=hub)
    SyncSettings.objects.filter(installation=installation).update(**values)


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    portal = portal_ready(world)
    _settings(
        portal.hub,
        product_sync=True,
        new_article_type="SERVICE",
        new_article_unit="h",
        new_article_vat=12,
    )
    yield portal
    # HubSpot's last events reach the app, and the runs they start end, before the test's
    # world (and its database) goes away.
    portal.world.hubspot_admin("POST", "/_sandbox/webhooks/drain", json={"timeout": 20})
    deadline = time.monotonic() + 30
    while Run.objects.filter(status__in=("queued", "running")).exists():
        assert time.monotonic() < deadline, "runs still under way after the test"
        time.sleep(0.2)


def events_of(portal: Portal, product: str) -> list[WebhookEvent]:
    """HubSpot's events about the product as the app recorded them, once delivered and
    decided."""
    portal.world.hubspot_admin("POST", "/_sandbox/webhooks/drain", json={"timeout": 20})
    webhook_events_decided()
    return list(
        WebhookEvent.objects.filter(object_type="product", object_id=product).order_by("pk")
    )


def runs_after(product: str, count: int) -> list[Run]:
    return wait_for_runs(product, count=count)


def fortnox_calls(run: Run) -> list[str]:
    return [
        f"{s.method} {s.path}"
        for s in RunStep.objects.filter(run=run, kind="call", service="fortnox").order_by("pk")
    ]


def price_in_list(portal: Portal, price_list: str, article: str) -> float | None:
    answer = portal.fortnox_api("GET", f"prices/{price_list}/{article}")
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    return answer.json()["Price"]["Price"]


def patch(portal: Portal, product: str, **properties: str) -> None:
    portal.world.hubspot_admin(
        "PATCH",
        f"/_sandbox/portals/{portal.hub}/objects/products/{product}",
        json={"properties": properties},
    )


def test_a_created_product_becomes_an_article_with_unit_vat_type_and_price(portal):
    product = portal.create("products", {"name": "Verkstadsdag", "hs_sku": "WS-1", "price": "4500"})

    events = events_of(portal, product)
    [run] = runs_after(product, 1)
    assert run.status == "succeeded", run.error_message
    assert (run.kind, run.trigger) == (RunKind.PRODUCT_SYNC, Run.Trigger.CHANGE)
    # The creation and its property changes came as one burst: one run, the others joined it.
    outcomes = [e.outcome for e in events]
    assert outcomes[0] == f"triggered run {run.pk}"
    assert len(outcomes) > 1
    assert set(outcomes[1:]) == {f"coalesced into run {run.pk}"}

    article = portal.fortnox_record("articles", "WS-1")
    assert article["Description"] == "Verkstadsdag"
    assert (article["Unit"], article["VAT"], article["Type"]) == ("h", 12, "SERVICE")
    assert article["Active"] is True
    assert price_in_list(portal, "A", "WS-1") == 4500
    assert run.data_read["outcome"]["articles"] == [
        {"number": "WS-1", "name": "Verkstadsdag", "action": "created", "reason": ""}
    ]
    # A change-started sync reports on the Runs tab, not in a note: products take no notes.
    assert Run.objects.filter(subject_id=product).count() == 1


def test_a_product_change_updates_the_article_and_nothing_changed_costs_no_call(portal):
    product = portal.create(
        "products",
        {"name": "Lagerhylla", "hs_sku": "LH-10", "price": "990", "hs_product_type": "inventory"},
    )
    events_of(portal, product)
    [first] = runs_after(product, 1)
    assert first.status == "succeeded", first.error_message
    assert portal.fortnox_record("articles", "LH-10")["Type"] == "STOCK"  # HubSpot's type wins

    patch(portal, product, name="Lagerhylla XL", price="1290")
    events_of(portal, product)
    second = runs_after(product, 2)[-1]
    assert second.status == "succeeded", second.error_message
    article = portal.fortnox_record("articles", "LH-10")
    assert article["Description"] == "Lagerhylla XL"
    assert price_in_list(portal, "A", "LH-10") == 1290
    calls = fortnox_calls(second)
    assert [c.split(" ")[0] for c in calls] == ["PUT", "GET", "PUT"], calls
    assert second.data_read["outcome"]["articles"][0]["action"] == "updated"

    # A change of something the article does not carry: the run sends nothing.
    patch(portal, product, description="Hylla i galvat stål")
    events_of(portal, product)
    third = runs_after(product, 3)[-1]
    assert third.status == "succeeded", third.error_message
    assert fortnox_calls(third) == []
    assert third.data_read["outcome"]["articles"][0]["action"] == "unchanged"


def test_a_changed_sku_fails_with_the_reason_and_the_fix(portal):
    product = portal.create("products", {"name": "Kabel", "hs_sku": "KB-1", "price": "50"})
    events_of(portal, product)
    assert runs_after(product, 1)[0].status == "succeeded"

    patch(portal, product, hs_sku="KB-2")
    events_of(portal, product)
    run = runs_after(product, 2)[-1]

    assert run.status == "failed"
    assert "The product's SKU changed from 'KB-1' to 'KB-2'" in run.error_message
    assert "an article number cannot change in Fortnox" in run.error_message
    assert "Set the SKU back to 'KB-1' in HubSpot" in run.error_fix
    [outcome] = run.data_read["outcome"]["articles"]
    assert (outcome["number"], outcome["action"]) == ("KB-1", "failed")
    assert all(a["ArticleNumber"] != "KB-2" for a in portal.fortnox_records("articles"))
    # The admin reads it on the settings page's Runs tab.
    with signed_in(portal.world, portal.hub) as browser:
        page = browser.get(f"{portal.world.app}/settings/{portal.hub}/runs/", timeout=30)
    assert page.status_code == 200
    shown = visible_text(page.text)
    assert "an article number cannot change in Fortnox" in shown
    assert "Set the SKU back to 'KB-1' in HubSpot" in shown


def test_an_invalid_sku_fails_and_a_product_without_sku_is_skipped_with_the_reason(portal):
    bad = portal.create("products", {"name": "Skruv", "hs_sku": "SK 1", "price": "2"})
    events_of(portal, bad)
    [run] = runs_after(bad, 1)
    assert run.status == "failed"
    assert "'SK 1' cannot be a Fortnox article number" in run.error_message
    slash = portal.create("products", {"name": "Mutter", "hs_sku": "MU/8", "price": "3"})
    events_of(portal, slash)
    [run] = runs_after(slash, 1)
    assert run.status == "failed"
    assert "'MU/8' contains '/'" in run.error_message
    assert "Use a SKU without '/'" in run.error_fix

    none = portal.create("products", {"name": "Frakt", "price": "150"})
    events_of(portal, none)
    [run] = runs_after(none, 1)
    assert run.status == "succeeded", run.error_message
    [outcome] = run.data_read["outcome"]["articles"]
    assert outcome["action"] == "skipped"
    assert "The product has no SKU" in outcome["reason"]
    assert all(a["Description"] != "Frakt" for a in portal.fortnox_records("articles"))
    with signed_in(portal.world, portal.hub) as browser:
        page = browser.get(f"{portal.world.app}/settings/{portal.hub}/runs/{run.pk}/", timeout=30)
    assert page.status_code == 200
    assert "The product has no SKU" in visible_text(page.text)


def test_a_price_list_the_company_lacks_fails_with_fortnoxs_reason(portal):
    _settings(portal.hub, price_list="ZZ")
    product = portal.create("products", {"name": "Prislös", "hs_sku": "PL-1", "price": "10"})
    events_of(portal, product)
    [run] = runs_after(product, 1)

    assert run.status == "failed"
    assert "Fortnox refused the price of article PL-1 in price list ZZ" in run.error_message
    assert "2000430" in run.error_message  # Fortnox's own code and words, for support
    assert "Choose one of the company's price lists on the app's Products tab" in run.error_fix
    # The article exists: the next sync (a Replay, or the next change) sends only the price.
    assert portal.fortnox_record("articles", "PL-1")["Description"] == "Prislös"


def test_product_sync_off_sends_nothing_and_the_event_is_recorded_as_ignored(portal):
    _settings(portal.hub, product_sync=False)
    articles_before = len(portal.fortnox_records("articles"))

    product = portal.create("products", {"name": "Tyst", "hs_sku": "TY-1", "price": "10"})

    events = events_of(portal, product)
    assert events, "HubSpot's events did not reach the app"
    assert {e.outcome for e in events} == {
        "ignored: product sync is off in the app's settings (Products tab)"
    }
    assert not Run.objects.filter(subject_id=product).exists()
    assert len(portal.fortnox_records("articles")) == articles_before


def test_an_archived_product_makes_the_article_inactive_and_a_restore_active_again(portal):
    product = portal.create("products", {"name": "Gammal tjänst", "hs_sku": "GT-1"})
    events_of(portal, product)
    assert runs_after(product, 1)[0].status == "succeeded"

    portal.world.hubspot_admin(
        "DELETE", f"/_sandbox/portals/{portal.hub}/objects/products/{product}"
    )
    events = events_of(portal, product)
    assert events[-1].subscription_type == "object.deletion"
    archived = runs_after(product, 2)[-1]
    assert archived.status == "succeeded", archived.error_message
    assert portal.fortnox_record("articles", "GT-1")["Active"] is False
    assert archived.data_read["outcome"]["articles"][0]["action"] == "inactivated"

    portal.world.hubspot_admin(
        "POST", f"/_sandbox/portals/{portal.hub}/objects/products/{product}/restore"
    )
    events = events_of(portal, product)
    assert events[-1].subscription_type == "object.restore"
    restored = runs_after(product, 3)[-1]
    assert restored.status == "succeeded", restored.error_message
    assert portal.fortnox_record("articles", "GT-1")["Active"] is True


def test_name_search_syncs_by_name_and_several_namesakes_fail_naming_them(portal):
    _settings(portal.hub, article_search=SyncSettings.ArticleSearch.NAME)
    for _ in range(2):
        portal.fortnox_api("POST", "articles", json={"Article": {"Description": "Dubblett"}})
    twin = portal.create("products", {"name": "Dubblett", "price": "5"})
    events_of(portal, twin)
    [run] = runs_after(twin, 1)
    assert run.status == "failed"
    assert "Several active Fortnox articles are named 'Dubblett'" in run.error_message

    fresh = portal.create("products", {"name": "Helt ny tjänst", "price": "700"})
    events_of(portal, fresh)
    [run] = runs_after(fresh, 1)
    assert run.status == "succeeded", run.error_message
    [outcome] = run.data_read["outcome"]["articles"]
    assert outcome["action"] == "created"
    article = portal.fortnox_record("articles", outcome["number"])  # Fortnox's next number
    assert article["Description"] == "Helt ny tjänst"
    assert price_in_list(portal, "A", outcome["number"]) == 700


def test_a_product_priced_only_in_another_currency_is_synced_without_a_price(portal):
    portal.world.hubspot_admin(
        "PATCH", f"/_sandbox/portals/{portal.hub}/account", json={"company_currency": "EUR"}
    )
    product = portal.create("products", {"name": "Euro-tjänst", "hs_sku": "EU-1", "price": "99"})
    events_of(portal, product)
    [run] = runs_after(product, 1)

    assert run.status == "succeeded", run.error_message
    assert portal.fortnox_record("articles", "EU-1")["Description"] == "Euro-tjänst"
    assert price_in_list(portal, "A", "EU-1") is None
    [outcome] = run.data_read["outcome"]["articles"]
    assert "The product's price is in EUR" in outcome["reason"]
    assert "Add a SEK price on the product in HubSpot" in outcome["reason"]


def test_the_deal_workflow_action_syncs_the_deals_products_with_a_note(portal, tmp_path):
    _settings(portal.hub, product_sync=False)  # the action works whether or not changes sync
    for base in (portal.world.fortnox, portal.world.hubspot):
        requests.delete(f"{base}/_sandbox/requests", timeout=10).raise_for_status()
    deal = portal.deal(
        [
            {"quantity": "1", "product": {"name": "Montage", "hs_sku": "MO-1", "price": "800"}},
            {"quantity": "2", "product": {"name": "Fäste", "hs_sku": "FA-1", "price": "35"}},
            {"quantity": "1", "product": {"name": "Utan SKU", "price": "1"}},
        ]
    )

    execution = workflow_execute(portal, ACTION, deal)

    assert execution["state"] == "SUCCESS", execution
    outputs = execution["output_fields"]
    assert outputs["fortnox_status"] == "synced"
    assert outputs["fortnox_article_numbers"] == "MO-1, FA-1"
    assert price_in_list(portal, "A", "MO-1") == 800
    assert price_in_list(portal, "A", "FA-1") == 35
    [run] = wait_for_runs(deal)
    assert run.status == "succeeded"
    [note] = portal.notes(deal)
    text = visible_text(note["properties"]["hs_note_body"])
    assert "The products were synced to Fortnox articles." in text
    assert "MO-1" in text and "FA-1" in text
    assert "Utan SKU" in text and "no SKU" in text
    # What the run sent conforms to Fortnox's spec (/3/articles, /3/prices) and HubSpot's SDK.
    if SHARED_TOOLS.is_dir():  # ../shared/tools beside the repository (CI has it there)
        requests_audited(portal, tmp_path)


def test_the_deal_workflow_action_fails_continue_with_the_reason_and_the_fix(portal):
    deal = portal.deal(
        [
            {"quantity": "1", "product": {"name": "Bra", "hs_sku": "BR-1", "price": "10"}},
            {"quantity": "1", "product": {"name": "Trasig", "hs_sku": "TR 1", "price": "10"}},
        ]
    )

    execution = workflow_execute(portal, ACTION, deal)

    assert execution["state"] == "FAIL_CONTINUE", execution
    outputs = execution["output_fields"]
    assert outputs["fortnox_status"] == "failed"
    assert "'TR 1' cannot be a Fortnox article number" in outputs["fortnox_error"]
    assert "Change the SKU on the product 'Trasig' in HubSpot" in outputs["fortnox_error"]
    # The good product is synced all the same; the note says what happened to each.
    assert portal.fortnox_record("articles", "BR-1")["Description"] == "Bra"
    # The callback and the note are separate deliveries: the note may land a moment later.
    wait_for_runs(deal)
    [note] = portal.notes(deal)
    text = visible_text(note["properties"]["hs_note_body"])
    assert "The products were not synced to Fortnox articles." in text
    assert "BR-1" in text and "Trasig" in text
    assert "Replay" in text

    empty = portal.deal([{"name": "Fri text", "quantity": "1", "price": "5"}])
    execution = workflow_execute(portal, ACTION, empty)
    assert execution["state"] == "FAIL_CONTINUE"
    assert "no line items from the product library" in execution["output_fields"]["fortnox_error"]


def test_the_sandbox_offers_no_product_based_workflows(portal):
    product = portal.create("products", {"name": "P", "hs_sku": "P-1"})
    refused = requests.post(
        f"{portal.world.hubspot}/_sandbox/workflows/execute",
        json={
            "portal": portal.hub,
            "definition_id": ACTION,
            "object_type": "PRODUCT",
            "object_id": product,
        },
        timeout=30,
    )
    assert refused.status_code == 400
    assert "cannot be enrolled in workflows" in refused.text
    assert not Run.objects.filter(trigger=Run.Trigger.WORKFLOW, subject_id=product).exists()
