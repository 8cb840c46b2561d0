"""The Runs tab as a portal admin uses it: recent runs with their deal (linked into HubSpot
through the portal's uiDomain), document (linked to Fortnox), error and fix; a filter by status;
a run's detail with its steps; Replay from there; and what the Replay page says before its
button once a later run created the document."""

from __future__ import annotations

import re

import pytest
import requests
from django.conf import settings

from integrations.models import HubSpotInstallation
from notes.replay import replay_url
from sync.models import Run
from tests.flows import csrf_token, visible_text
from tests.sync.test_runs_e2e import failed_then_fixed, portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

UI_DOMAIN = "app-eu1.hubspot.com"  # what the HubSpot sandbox's account details answer


@pytest.fixture
def browser():
    with requests.Session() as session:
        yield session


def _deal_url(hub: int, deal: str) -> str:
    return f"https://{UI_DOMAIN}/contacts/{hub}/record/0-3/{deal}"


def _hrefs(page: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', page))


def test_the_runs_tab_shows_each_run_and_replays_a_failed_one(
    world, celery_worker_process, browser
):
    portal = portal_ready(world, browser=browser)
    done = portal.deal(
        [{"name": "A", "quantity": "1", "price": "100", "hs_sku": "1"}], name="Kund AB licenser"
    )
    portal.move(done)
    [succeeded] = wait_for_runs(done)
    failing, failed = failed_then_fixed(portal)
    runs_url = f"{world.app}/settings/{portal.hub}/runs/"

    page = browser.get(runs_url, timeout=10)

    assert page.status_code == 200
    text = visible_text(page.text)
    number = succeeded.fortnox_document_number
    assert f"{succeeded.pk} " in text and "Succeeded Deal stage Kund AB licenser" in text
    assert f"Invoice {number}" in text
    assert "Failed Deal stage Test deal Invoice" in text
    assert "WIDGET" in text and "Fix:" in text
    tenant = HubSpotInstallation.objects.get(hub_id=portal.hub).active_fortnox_connection()
    links = _hrefs(page.text)
    assert _deal_url(portal.hub, done) in links and _deal_url(portal.hub, failing) in links
    assert (
        settings.FORTNOX_DOCUMENT_URL.format(
            tenant=tenant.database_number, kind="invoice", number=number
        )
        in links
    )

    only_failed = visible_text(browser.get(runs_url, params={"status": "failed"}).text)
    assert "Test deal" in only_failed and "Kund AB licenser" not in only_failed

    detail = browser.get(f"{runs_url}{failed.pk}/", timeout=10)
    detail_text = visible_text(detail.text)
    assert f"Run {failed.pk}" in detail_text and "What went wrong:" in detail_text
    assert "/3/articles" in detail_text  # a step: the article lookup Fortnox answered
    assert 'id="already-created"' not in detail.text

    replayed = browser.post(
        f"{runs_url}{failed.pk}/replay",
        data={"csrfmiddlewaretoken": csrf_token(detail.text)},
        timeout=10,
    )

    assert "Replay started" in visible_text(replayed.text)
    runs = wait_for_runs(failing, count=2)
    assert [r.status for r in runs] == ["failed", "succeeded"]
    created = runs[1].fortnox_document_number
    # Before the button, both pages now say that Replay would create nothing.
    later = visible_text(browser.get(f"{runs_url}{failed.pk}/", timeout=10).text)
    assert (
        f"A later run (run {runs[1].pk}) already created Invoice {created} in Fortnox for this "
        "trigger: Replay will create nothing."
    ) in later
    replay_page = requests.get(replay_url(portal.hub, failed.pk), timeout=10)
    replay_text = visible_text(replay_page.text)
    assert (
        f"A later run (run {runs[1].pk}) already created Fortnox invoice {created} for this "
        "trigger: Replay will create nothing."
    ) in replay_text
    assert "Deal: Test deal" in replay_text
    assert _deal_url(portal.hub, failing) in _hrefs(replay_page.text)


def test_runs_are_paged_filtered_and_shown_in_swedish(world, celery_worker_process, browser):
    portal = portal_ready(world, browser=browser)
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    # A deal read by one run: a later run of the same deal that failed before reading it
    # still shows the deal's name.
    Run.objects.create(
        installation=installation,
        subject_id="77",
        kind="invoice",
        trigger="stage",
        trigger_key="stage:default:closedwon",
        status="failed",
        data_read={"deal": {"dealname": "Årsavtal Kund AB"}},
        error_message="Fortnox cannot find the article.",
    )
    for n in range(30):
        Run.objects.create(
            installation=installation,
            subject_id="77",
            kind="invoice",
            trigger="workflow",
            trigger_key=f"workflow:{n}",
            status="skipped" if n % 2 else "failed",
            error_message="Fortnox is not connected to this HubSpot portal.",
        )
    browser.cookies.set("django_language", "sv")
    runs_url = f"{world.app}/settings/{installation.hub_id}/runs/"

    first = visible_text(browser.get(runs_url, timeout=10).text)
    second = visible_text(browser.get(runs_url, params={"page": 2}, timeout=10).text)
    skipped = visible_text(browser.get(runs_url, params={"status": "skipped"}, timeout=10).text)

    assert "Körningar" in first and "Sida 1 av 2" in first and "Äldre" in first
    assert first.count("Årsavtal Kund AB") == 25
    assert "Sida 2 av 2" in second and "Nyare" in second
    assert second.count("Årsavtal Kund AB") == 6
    assert "Hoppades över" in skipped and "Misslyckades" not in skipped.split("Fel och åtgärd")[1]
    assert browser.get(f"{runs_url}999999/", timeout=10).status_code == 404


def test_the_replay_page_warns_that_a_later_workflow_run_already_made_the_invoice(
    world, celery_worker_process, browser
):
    portal = portal_ready(world, browser=browser)
    installation = HubSpotInstallation.objects.get(hub_id=portal.hub)
    common = {"installation": installation, "subject_id": "88", "kind": "invoice"}
    failed = Run.objects.create(
        **common,
        trigger="stage",
        trigger_key="stage:default:closedwon",
        status="failed",
        error_message="Fortnox cannot find the article.",
        data_read={"deal": {"dealname": "Årsavtal Kund AB"}},
    )
    later = Run.objects.create(
        **common,
        trigger="workflow",
        trigger_key="workflow:cb-1",
        status="succeeded",
        fortnox_document_number="41",
    )

    page = requests.get(
        replay_url(portal.hub, failed.pk), headers={"Accept-Language": "sv"}, timeout=10
    )

    text = visible_text(page.text)
    assert (
        f"En senare körning (körning {later.pk}) har redan skapat Fortnox-faktura 41 för den här "
        "affären: Kör igen skapar en till."
    ) in text
    assert "Affär: Årsavtal Kund AB" in text and "Kör igen nu" in text
    assert _deal_url(portal.hub, "88") in _hrefs(page.text)
    detail = visible_text(browser.get(f"{world.app}/settings/{portal.hub}/runs/{failed.pk}/").text)
    assert (
        f"A later run (run {later.pk}) already created Invoice 41 in Fortnox for this deal: "
        "Replay creates another one."
    ) in detail
