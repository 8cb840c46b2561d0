"""The one retry policy, as each vendor's client applies it over real HTTP to the sandboxes:
what is repeated, what is not, and what the step log (the call observer) shows."""

from __future__ import annotations

import pytest
import requests

from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.errors import (
    FortnoxNotFound,
    FortnoxOutcomeUnknown,
    FortnoxUnavailable,
)
from integrations.hubspot import crm
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.errors import HubSpotError, HubSpotUnavailable
from tests.conftest import free_port
from tests.integrations.conftest import sandbox_requests

pytestmark = pytest.mark.django_db


def _fail_next(base: str, **rule) -> None:
    requests.post(f"{base}/_sandbox/faults/fail-next", json=rule, timeout=10).raise_for_status()


def _customers(base: str) -> list[dict]:
    return requests.get(f"{base}/_sandbox/records/1/customers", timeout=10).json()


# -- Fortnox -------------------------------------------------------------------------------------
def test_a_fortnox_read_is_repeated_after_5xx(connection_make, sandboxes, recorder):
    connection = connection_make()
    _fail_next(sandboxes.FORTNOX_API_BASE, count=2, status=502, method="GET")

    info = FortnoxClient(connection, observer=recorder).company_information()

    assert info["CompanyName"] == connection.company_name
    assert [r.status for r in recorder] == [502, 502, 200]
    assert [r.attempt for r in recorder] == [1, 2, 3]
    assert {r.service for r in recorder} == {"fortnox"}
    assert {r.path for r in recorder} == {"/3/companyinformation"}


def test_a_fortnox_create_answered_503_was_not_processed_and_is_repeated(
    connection_make, sandboxes, recorder
):
    connection = connection_make()
    _fail_next(sandboxes.FORTNOX_API_BASE, count=1, status=503, method="POST")

    created = FortnoxClient(connection, observer=recorder).customer_create({"Name": "Retry AB"})

    assert [r.status for r in recorder] == [503, 201]
    assert [c["Name"] for c in _customers(sandboxes.FORTNOX_API_BASE)].count("Retry AB") == 1
    assert created["Name"] == "Retry AB"


def test_a_fortnox_create_answered_500_is_not_repeated(connection_make, sandboxes, recorder):
    connection = connection_make()
    _fail_next(sandboxes.FORTNOX_API_BASE, count=1, status=500, method="POST")

    with pytest.raises(FortnoxOutcomeUnknown) as caught:
        FortnoxClient(connection, observer=recorder).customer_create({"Name": "Once AB"})

    assert caught.value.transient and caught.value.status == 500
    assert [r.status for r in recorder] == [500]


def test_a_fortnox_create_whose_answer_was_lost_is_not_repeated(
    connection_make, sandboxes, recorder
):
    connection = connection_make()
    requests.post(
        f"{sandboxes.FORTNOX_API_BASE}/_sandbox/faults/commit-then-drop",
        json={"count": 1, "path_prefix": "/3/customers"},
        timeout=10,
    ).raise_for_status()

    with pytest.raises(FortnoxOutcomeUnknown) as caught:
        FortnoxClient(connection, observer=recorder).customer_create({"Name": "Lost AB"})

    assert "may or may not have been carried out" in caught.value.message
    assert [r.status for r in recorder] == [None]
    # It was carried out, once: the run engine finds it by its reference before trying again.
    assert [c["Name"] for c in _customers(sandboxes.FORTNOX_API_BASE)].count("Lost AB") == 1


def test_a_create_that_never_reached_fortnox_is_repeated(connection_make, settings, recorder):
    connection = connection_make()
    settings.FORTNOX_API_BASE = f"http://127.0.0.1:{free_port()}"  # nobody listens there

    with pytest.raises(FortnoxUnavailable) as caught:
        FortnoxClient(connection, observer=recorder).customer_create({"Name": "Nowhere AB"})

    assert caught.value.transient
    assert caught.value.message == "Fortnox could not be reached."
    assert [r.attempt for r in recorder] == [1, 2, 3, 4]
    assert {r.error for r in recorder} == {"ConnectionError"}


def test_a_401_refreshes_the_token_once_and_repeats(connection_make, sandboxes, recorder):
    connection = connection_make()
    base = sandboxes.FORTNOX_API_BASE
    # Fortnox stopped accepting the token before the expiry we stored.
    requests.post(f"{base}/_sandbox/faults/expire-tokens", timeout=10).raise_for_status()

    FortnoxClient(connection, observer=recorder).company_information()

    assert [r.status for r in recorder] == [401, 200]
    stats = requests.get(f"{base}/_sandbox/tokens/stats", timeout=10).json()
    assert stats["token_calls"].get("refresh_token") == 1
    connection.refresh_from_db()
    assert connection.status == "connected"


def test_typed_errors_reach_the_caller_unrepeated(connection_make, sandboxes, recorder):
    connection = connection_make()

    with pytest.raises(FortnoxNotFound) as caught:
        FortnoxClient(connection, observer=recorder).currency_get("XYZ")

    assert [r.status for r in recorder] == [404]
    assert caught.value.status == 404


# -- typed Fortnox reads -------------------------------------------------------------------------
def test_currency_get_reads_the_register(connection_make, sandboxes):
    currency = FortnoxClient(connection_make()).currency_get("EUR")
    assert currency["Code"] == "EUR"


def test_articles_page_reads_the_paging_fields(connection_make, sandboxes):
    page = FortnoxClient(connection_make()).articles_page(1)
    assert page.total_pages == 1
    assert {a["ArticleNumber"] for a in page.articles} >= {"1", "2", "3"}


@pytest.mark.parametrize(
    "kind, resource, wrapper", [("invoice", "invoices", "Invoice"), ("order", "orders", "Order")]
)
def test_documents_are_addressed_by_our_kind(connection_make, sandboxes, kind, resource, wrapper):
    client = FortnoxClient(connection_make())
    requests.delete(f"{sandboxes.FORTNOX_API_BASE}/_sandbox/requests", timeout=10)

    document = client.document_get(kind, "1")
    found = client.documents_search(kind, customernumber=document["CustomerNumber"])
    pdf = client.document_preview_pdf(kind, "1")

    assert document["DocumentNumber"] == "1"
    assert "1" in {d["DocumentNumber"] for d in found}
    assert pdf.startswith(b"%PDF")
    paths = [r["path"] for r in sandbox_requests(sandboxes.FORTNOX_API_BASE)]
    assert paths == [f"/3/{resource}/1", f"/3/{resource}", f"/3/{resource}/1/preview"]


def test_an_unknown_document_kind_names_the_kinds():
    from integrations.fortnox.documents import document_shape

    with pytest.raises(ValueError, match="'invoices'.*invoice, order"):
        document_shape("invoices")


# -- HubSpot -------------------------------------------------------------------------------------
def test_a_hubspot_read_is_repeated_after_5xx(installation_make, sandboxes, recorder):
    installation = installation_make()
    _fail_next(sandboxes.HUBSPOT_API_BASE, count=1, status=502, method="GET")

    pipelines = crm.deal_pipelines(HubSpotClient(installation, observer=recorder))

    assert pipelines
    assert [(r.method, r.path, r.status) for r in recorder] == [
        ("GET", "/crm/v3/pipelines/deals", 502),
        ("GET", "/crm/v3/pipelines/deals", 200),
    ]


def test_a_hubspot_write_is_not_repeated_after_5xx(installation_make, sandboxes, recorder):
    installation = installation_make()
    _fail_next(sandboxes.HUBSPOT_API_BASE, count=1, status=500, method="POST")

    with pytest.raises(HubSpotUnavailable):
        crm.note_create(
            HubSpotClient(installation, observer=recorder), "<p>x</p>", 0, {"deals": "1"}
        )

    assert [r.status for r in recorder] == [500]


def test_a_hubspot_429_is_repeated(installation_make, sandboxes, recorder):
    installation = installation_make()
    _fail_next(sandboxes.HUBSPOT_API_BASE, count=1, status=429)

    crm.deal_pipelines(HubSpotClient(installation, observer=recorder))

    assert [r.status for r in recorder] == [429, 200]


def test_a_hubspot_401_after_a_fresh_token_is_not_a_validation_error(
    installation_make, sandboxes, recorder
):
    installation = installation_make()
    _fail_next(sandboxes.HUBSPOT_API_BASE, count=2, status=401, method="GET")

    with pytest.raises(HubSpotError) as caught:
        crm.deal_pipelines(HubSpotClient(installation, observer=recorder))

    assert [r.status for r in recorder] == [401, 401]
    assert "fresh authorisation" in caught.value.message
    assert "Install the app again" in caught.value.fix
