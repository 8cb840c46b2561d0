"""Installations and Fortnox connections holding real sandbox tokens, without the browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from integrations.calls import CallRecord
from integrations.models import FortnoxConnection, HubSpotInstallation
from tests.flows import FORTNOX_COMPANY, HUB


@pytest.fixture
def sandboxes(settings, fortnox_url, hubspot_url):
    """Both freshly reset sandboxes, with the service's settings pointing at them."""
    settings.FORTNOX_API_BASE = settings.FORTNOX_AUTH_BASE = fortnox_url
    settings.HUBSPOT_API_BASE = settings.HUBSPOT_APP_BASE = hubspot_url
    return settings


def sandbox_requests(base: str, path_prefix: str = "") -> list[dict]:
    """What the sandbox received (its request log), oldest first."""
    answer = requests.get(
        f"{base}/_sandbox/requests", params={"path_prefix": path_prefix}, timeout=10
    )
    answer.raise_for_status()
    return answer.json()


@pytest.fixture
def installation_make(sandboxes) -> Callable[..., HubSpotInstallation]:
    def make(hub_id: int = HUB) -> HubSpotInstallation:
        pair = requests.post(
            f"{sandboxes.HUBSPOT_API_BASE}/_sandbox/tokens", json={"portal": hub_id}, timeout=10
        ).json()
        installation = HubSpotInstallation(hub_id=hub_id)
        installation.store_tokens(pair["access_token"], pair["refresh_token"], pair["expires_in"])
        installation.save()
        return installation

    return make


@pytest.fixture
def connection_make(sandboxes, installation_make) -> Callable[..., FortnoxConnection]:
    """A portal's connection to a sandbox Fortnox company, as the consent flow would leave it."""

    def make(hub_id: int = HUB, company: str = FORTNOX_COMPANY) -> FortnoxConnection:
        base = sandboxes.FORTNOX_API_BASE
        installation = HubSpotInstallation.objects.filter(
            hub_id=hub_id
        ).first() or installation_make(hub_id)
        pair = requests.post(
            f"{base}/_sandbox/tokens", json={"company": company}, timeout=10
        ).json()
        details = next(
            c
            for c in requests.get(f"{base}/_sandbox/companies", timeout=10).json()
            if c["id"] == company
        )
        connection = FortnoxConnection(
            installation=installation,
            company_name=details["name"],
            database_number=str(details["database_number"]),
        )
        connection.store_tokens(
            pair["access_token"], pair["refresh_token"], pair["expires_in"], pair["scope"].split()
        )
        connection.save()
        return connection

    return make


class Recorder(list):
    """A call observer keeping every CallRecord, as a run's step log would."""

    def __call__(self, record: CallRecord) -> None:
        self.append(record)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
