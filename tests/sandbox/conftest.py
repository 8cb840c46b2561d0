"""Fixtures that run the simulators on free ports in this process, reached over real HTTP."""

from __future__ import annotations

import pytest

from sandbox.core.server import BackgroundServer


@pytest.fixture(scope="session")
def fortnox_server():
    from sandbox.fortnox.app import create_app

    server = BackgroundServer(create_app()).start()
    yield server
    server.stop()


@pytest.fixture
def fortnox_url(fortnox_server) -> str:
    """A freshly reset Fortnox sandbox for each test."""
    import requests

    requests.post(f"{fortnox_server.url}/_sandbox/reset", timeout=5).raise_for_status()
    return fortnox_server.url


@pytest.fixture(scope="session")
def hubspot_server():
    from sandbox.hubspot.app import create_app

    server = BackgroundServer(create_app()).start()
    yield server
    server.stop()


@pytest.fixture
def hubspot_url(hubspot_server) -> str:
    """A freshly reset HubSpot sandbox for each test."""
    import requests

    requests.post(f"{hubspot_server.url}/_sandbox/reset", timeout=5).raise_for_status()
    return hubspot_server.url
