"""The sandbox's data: portals (records, associations, properties, pipelines, files), the app's
configuration, tokens and workflow-action definitions. Plain dicts, one lock.

Handlers hold `store.lock` while they read or change anything here; HTTP calls to the app are
made outside it. `to_dict`/`from_dict` are the state file's format.
"""

from __future__ import annotations

import base64
import copy
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.hubspot import schema


def iso(ts: float) -> str:
    """HubSpot's timestamp format: 2025-01-31T12:00:00.123Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{int(ts * 1000) % 1000:03d}Z"
    )


@dataclass
class Source:
    """Who made a change; webhook events carry it as changeSource/sourceId."""

    change_source: str  # "INTEGRATION" (the app, through the API) or "CRM_UI" (a user)
    source_id: str


@dataclass
class Change:
    """One thing that happened to a record, turned into webhook events by the delivery module."""

    hub_id: int
    kind: str  # "creation" | "deletion" | "restore" | "privacyDeletion" | "propertyChange"
    object_type: str
    object_id: str
    occurred_at_ms: int
    source: Source
    property_name: str = ""
    property_value: str = ""


@dataclass
class Portal:
    hub_id: int
    name: str
    domain: str
    users: list[dict[str, Any]]
    currencies: list[str]
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    properties: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # (from_type, from_id) -> {to_type: {to_id: [type ids]}}; both directions are stored.
    assoc: dict[tuple[str, str], dict[str, dict[str, list[int]]]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)
    # The account's tax rate library (/tax-rates/v1/tax-rates), by id.
    tax_rates: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 10001
    next_event_id: int = 100
    installed: bool = False
    # Account details (/account-info/v3/details): "" = the first of `currencies`.
    company_currency: str = ""
    time_zone: str = "Europe/Stockholm"
    # Optional scopes this portal does not grant (HubSpot drops an optional scope the account
    # lacks; tests also use it for an install from before the app asked for a scope).
    withheld_scopes: list[str] = field(default_factory=list)
    # Lists (segments) by id: {listId, name, objectTypeId, processingType, createdAt,
    # createdById, members: [record ids]} (sandbox/hubspot/lists.py).
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)

    def new_id(self) -> str:
        value = self.next_id
        self.next_id += 1
        return str(value)

    def user(self, user_id: int | None = None) -> dict[str, Any]:
        if user_id is not None:
            for user in self.users:
                if int(user["id"]) == int(user_id):
                    return user
        return self.users[0]

    # -- properties -----------------------------------------------------------------------
    def property(self, object_type: str, name: str) -> dict[str, Any] | None:
        return self.properties.get(object_type, {}).get(name)

    def property_view(self, object_type: str, name: str) -> dict[str, Any]:
        """A property definition as the API shows it (live options for pipeline/stage/currency)."""
        prop = copy.deepcopy(self.properties[object_type][name])
        dynamic: list[tuple[str, str]] | None = None
        if object_type == "deals" and name == "pipeline":
            dynamic = [(p["id"], p["label"]) for p in self.pipelines]
        elif object_type == "deals" and name == "dealstage":
            dynamic = [(s["id"], s["label"]) for p in self.pipelines for s in p["stages"]]
        elif name in ("deal_currency_code", "hs_line_item_currency_code"):
            dynamic = [(c, c) for c in self.currencies]
        if dynamic is not None:
            prop["options"] = [schema.option(v, lab, i) for i, (v, lab) in enumerate(dynamic)]
        return prop

    def allowed_options(self, object_type: str, name: str) -> list[str]:
        return [o["value"] for o in self.property_view(object_type, name)["options"]]

    # -- records ----------------------------------------------------------------------------
    def record(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        rec = self.records.get(object_type, {}).get(str(object_id))
        return rec if rec is not None and not rec["archived"] else None

    # -- associations -----------------------------------------------------------------------
    def associated(self, from_type: str, from_id: str, to_type: str) -> dict[str, list[int]]:
        """{to_id: [type ids]} of live records, ordered by id."""
        found = self.assoc.get((from_type, str(from_id)), {}).get(to_type, {})
        live = {k: v for k, v in found.items() if self.record(to_type, k) is not None and v}
        return dict(sorted(live.items(), key=lambda item: _id_key(item[0])))

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str, tid: int) -> None:
        """Add type `tid` (and its inverse on the other side; a primary type implies the
        unlabeled one, and there is one primary company per deal or contact)."""
        type_ids = [tid]
        if tid in schema.PRIMARY:
            type_ids.append(schema.PRIMARY[tid])
            # Only one primary: drop the primary label from the record's other companies.
            for other_id, others in (
                self.assoc.get((from_type, str(from_id)), {}).get(to_type, {}).items()
            ):
                if other_id != str(to_id) and tid in others:
                    others.remove(tid)
                    back = self.assoc[(to_type, other_id)][from_type][str(from_id)]
                    if schema.INVERSE[tid] in back:
                        back.remove(schema.INVERSE[tid])
        for type_id_ in type_ids:
            self._add_one(from_type, str(from_id), to_type, str(to_id), type_id_)
            self._add_one(to_type, str(to_id), from_type, str(from_id), schema.INVERSE[type_id_])

    def _add_one(self, from_type: str, from_id: str, to_type: str, to_id: str, tid: int) -> None:
        ids = self.assoc.setdefault((from_type, from_id), {}).setdefault(to_type, {})
        types = ids.setdefault(to_id, [])
        if tid not in types:
            types.append(tid)
            types.sort()

    def dissociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self.assoc.get((from_type, str(from_id)), {}).get(to_type, {}).pop(str(to_id), None)
        self.assoc.get((to_type, str(to_id)), {}).get(from_type, {}).pop(str(from_id), None)

    # -- state file -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        files = {
            fid: {**meta, "content": base64.b64encode(meta["content"]).decode()}
            for fid, meta in self.files.items()
        }
        return {
            "hub_id": self.hub_id,
            "name": self.name,
            "domain": self.domain,
            "users": self.users,
            "currencies": self.currencies,
            "pipelines": self.pipelines,
            "groups": self.groups,
            "properties": self.properties,
            "records": self.records,
            "assoc": [[k[0], k[1], v] for k, v in self.assoc.items()],
            "files": files,
            "folders": self.folders,
            "tax_rates": self.tax_rates,
            "next_id": self.next_id,
            "next_event_id": self.next_event_id,
            "installed": self.installed,
            "company_currency": self.company_currency,
            "time_zone": self.time_zone,
            "withheld_scopes": self.withheld_scopes,
            "lists": self.lists,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Portal:
        data = dict(data)
        data["assoc"] = {(a, b): v for a, b, v in data.get("assoc", [])}
        data["files"] = {
            fid: {**meta, "content": base64.b64decode(meta["content"])}
            for fid, meta in data.get("files", {}).items()
        }
        return cls(**data)


def _id_key(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (1 << 62, value)


class Store:
    """Everything the sandbox knows; `lock` guards it all."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.app: dict[str, Any] = {}
        self.portals: dict[int, Portal] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.definitions: dict[str, dict[str, Any]] = {}
        self.next_definition_id = 5001
        self.next_subscription_id = 3001
        self.token_calls: dict[str, int] = {}
        self.token_refused: dict[str, int] = {}
        self.signed_urls: dict[str, dict[str, Any]] = {}

    def portal(self, hub_id: int | str) -> Portal | None:
        try:
            return self.portals.get(int(hub_id))
        except (TypeError, ValueError):
            return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "portals": [p.to_dict() for p in self.portals.values()],
            "codes": self.codes,
            "access_tokens": self.access_tokens,
            "refresh_tokens": self.refresh_tokens,
            "definitions": self.definitions,
            "next_definition_id": self.next_definition_id,
            "next_subscription_id": self.next_subscription_id,
        }

    def load(self, data: dict[str, Any]) -> None:
        self.app = data["app"]
        self.portals = {int(p["hub_id"]): Portal.from_dict(p) for p in data["portals"]}
        self.codes = data.get("codes", {})
        self.access_tokens = data.get("access_tokens", {})
        self.refresh_tokens = data.get("refresh_tokens", {})
        self.definitions = data.get("definitions", {})
        self.next_definition_id = data.get("next_definition_id", 5001)
        self.next_subscription_id = data.get("next_subscription_id", 3001)
