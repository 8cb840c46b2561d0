"""FORTNOX_DOCUMENT_URL, the deal note's "Open the invoice in Fortnox" link: in development
against the sandbox it opens the Fortnox sandbox's page of the document; elsewhere Fortnox's."""

from __future__ import annotations

import subprocess
import sys

import requests

from sandbox.driver import visible_text
from tests.conftest import ROOT
from tests.sandbox.test_fortnox_api import Api

WEB_APP = "https://apps.fortnox.se/app/{tenant}/kf/{kind}/{number}"


def _document_url(**env: str) -> str:
    """The setting as a process started with only these variables reads it (the module that
    defines it; cloudify.settings.base takes it as it is)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from cloudify.settings.integrations import FORTNOX_DOCUMENT_URL as url; print(url)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            **env,
        },
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_in_development_the_link_opens_the_document_in_the_fortnox_sandbox(fortnox_url):
    created = Api(fortnox_url)(
        "POST",
        "/3/invoices",
        {"Invoice": {"CustomerNumber": "1", "InvoiceRows": [
            {"Description": "Konsulttimme", "DeliveredQuantity": 2, "Price": 1000}
        ]}},
    )  # fmt: skip
    number = created.json()["Invoice"]["DocumentNumber"]
    pattern = _document_url(CLOUDIFY_ENV="development", FORTNOX_API_BASE=fortnox_url)

    link = pattern.format(tenant="1000001", kind="invoice", number=number)
    page = requests.get(link, timeout=5)

    assert page.status_code == 200
    text = visible_text(page.text)
    assert f"Faktura {number}" in text and "Konsulttimme 2 1 000,00" in text


def test_against_fortnox_itself_and_in_production_the_link_is_fortnoxs():
    assert _document_url(CLOUDIFY_ENV="development") == WEB_APP
    credentials = ("HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET", "FORTNOX_CLIENT_ID")
    production = _document_url(
        FORTNOX_API_BASE="http://127.0.0.1:8201",
        HUBSPOT_APP_ID="1",
        FORTNOX_CLIENT_SECRET="x",
        **dict.fromkeys(credentials, "x"),
    )
    assert production == WEB_APP
    chosen = "https://example.test/{number}"
    assert (
        _document_url(
            CLOUDIFY_ENV="development",
            FORTNOX_API_BASE="http://127.0.0.1:8201",
            FORTNOX_DOCUMENT_URL=chosen,
        )
        == chosen
    )
