"""The sandbox's data: companies (tenants) with their records, OAuth clients, codes and tokens.

Plain dicts under one lock (`store.lock`, re-entrant): handlers hold it while they read or change
anything. `to_dict`/`load` are the state file's format.
"""

from __future__ import annotations

import copy
import os
import threading
from typing import Any

DEFAULT_CLIENT_ID = "sandbox-fortnox-client"
DEFAULT_CLIENT_SECRET = "sandbox-fortnox-secret"

RECORD_KINDS = (
    "customers",
    "articles",
    "invoices",
    "orders",
    "units",
    "termsofpayments",
    "pricelists",
    "prices",
    "currencies",
    "accounts",
    "invoicepayments",
)


def empty_company(
    company_id: str,
    name: str,
    organisation_number: str,
    database_number: int,
    licences: list[str],
    scopes_allowed: list[str],
) -> dict[str, Any]:
    return {
        "id": company_id,
        "name": name,
        "organisation_number": organisation_number,
        "database_number": database_number,
        "licences": list(licences),
        "scopes_allowed": list(scopes_allowed),
        "info": {
            "Address": "Sandboxgatan 1",
            "City": "Stockholm",
            "CountryCode": "SE",
            "DatabaseNumber": database_number,
            "CompanyName": name,
            "OrganizationNumber": organisation_number,
            "VisitAddress": "Sandboxgatan 1",
            "VisitCity": "Stockholm",
            "VisitCountryCode": "SE",
            "VisitZipCode": "111 22",
            "ZipCode": "111 22",
        },
        "settings": {"default_terms_of_payment": "30", "row_id": 0, "voucher_number": 0},
        "data": {kind: {} for kind in RECORD_KINDS},
        "modified": {kind: {} for kind in RECORD_KINDS},
    }


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.state: dict[str, Any] = {}
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.state = {
                "companies": {},
                "clients": {},
                "codes": {},
                "access_tokens": {},
                "refresh_tokens": {},
                "clock_offset": 0.0,
                "next_company_id": 1,
            }
            self.add_client(
                os.environ.get("SANDBOX_FORTNOX_CLIENT_ID", DEFAULT_CLIENT_ID),
                os.environ.get("SANDBOX_FORTNOX_CLIENT_SECRET", DEFAULT_CLIENT_SECRET),
                [],
            )

    # -- companies ---------------------------------------------------------------------------
    @property
    def companies(self) -> dict[str, dict[str, Any]]:
        return self.state["companies"]

    def company(self, company_id: str) -> dict[str, Any] | None:
        return self.state["companies"].get(str(company_id))

    def add_company(self, company: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.state["companies"][company["id"]] = company
            if str(company["id"]).isdigit():
                self.state["next_company_id"] = max(
                    self.state["next_company_id"], int(company["id"]) + 1
                )
            return company

    def next_company_id(self) -> str:
        with self.lock:
            cid = self.state["next_company_id"]
            while str(cid) in self.state["companies"]:
                cid += 1
            self.state["next_company_id"] = cid + 1
            return str(cid)

    # -- clients -----------------------------------------------------------------------------
    def add_client(self, client_id: str, secret: str, redirect_uris: list[str]) -> dict[str, Any]:
        with self.lock:
            client = {
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uris": list(redirect_uris),
            }
            self.state["clients"][client_id] = client
            return client

    def client(self, client_id: str) -> dict[str, Any] | None:
        return self.state["clients"].get(client_id)

    # -- state file --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.state)

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.clear()
            for key, value in data.items():
                self.state[key] = value
