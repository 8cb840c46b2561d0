"""Tokens are refreshed before they expire (product.md §1), seen from the sandboxes: a token
inside its refresh margin is renewed before the run's first call, so no call is refused."""

from __future__ import annotations

import pytest
from django.utils import timezone

from integrations.models import TOKEN_REFRESH_MARGIN, FortnoxConnection, HubSpotInstallation
from tests.flows import Portal
from tests.sync.test_runs_e2e import portal_ready, wait_for_runs

pytestmark = pytest.mark.django_db(transaction=True)

LINE = {"name": "Consulting", "quantity": "1", "price": "900", "hs_sku": "1"}


@pytest.fixture
def portal(world, celery_worker_process) -> Portal:
    return portal_ready(world)


def expiring_soon():
    """Still valid at HubSpot and Fortnox, but inside the margin the app keeps."""
    return timezone.now() + TOKEN_REFRESH_MARGIN / 2


def refreshes(admin) -> int:
    return admin("GET", "/_sandbox/tokens/stats")["token_calls"].get("refresh_token", 0)


def calls(admin, token_path: str, api_prefix: str) -> list[tuple[str, int]]:
    """(what, status) of every call the app made: "refresh" or "api"."""
    return [
        ("refresh" if r["path"] == token_path else "api", r["status"])
        for r in admin("GET", "/_sandbox/requests")
        if r["path"] == token_path or r["path"].startswith(api_prefix)
    ]


@pytest.mark.parametrize(
    ("service", "token_path", "api_prefix"),
    [("fortnox", "/oauth-v1/token", "/3/"), ("hubspot", "/oauth/v1/token", "/crm/")],
)
def test_a_token_about_to_expire_is_refreshed_before_the_first_call(
    portal, service, token_path, api_prefix
):
    admin = getattr(portal.world, f"{service}_admin")
    deal = portal.deal([LINE])
    holders = (
        FortnoxConnection.objects.filter(installation__hub_id=portal.hub, status="connected")
        if service == "fortnox"
        else HubSpotInstallation.objects.filter(hub_id=portal.hub)
    )
    holders.update(access_token_expires_at=expiring_soon())
    before = refreshes(admin)
    admin("DELETE", "/_sandbox/requests")

    portal.move(deal)
    [run] = wait_for_runs(deal)

    assert run.status == "succeeded", run.error_message
    assert refreshes(admin) == before + 1
    log = calls(admin, token_path, api_prefix)
    assert log[0] == ("refresh", 200), log
    assert [status for _, status in log if status == 401] == []
