"""CRM records: HubSpot's validation of property values, create/update/archive (each emitting the
changes webhooks are made from) and the v3 JSON shape of a record.

Validation follows HubSpot's 400 body for bad property values: a `message` that embeds the
per-property results ("Property values were not valid: [...]") and, here, the same results in
`errors[]` with `code` (PROPERTY_DOESNT_EXIST, INVALID_DECIMAL, INVALID_OPTION, ...).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sandbox.hubspot import schema
from sandbox.hubspot.http import ApiError, error_body, validation_error
from sandbox.hubspot.store import Change, Portal, Source, iso

if TYPE_CHECKING:
    from sandbox.hubspot.app import Sandbox

STRING_MAX = 65_536  # HubSpot's limit for string values, e.g. hs_note_body (hubspot-api.md §6)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


class PropertyProblem(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def property_errors(portal: Portal, problems: list[tuple[str, PropertyProblem]]) -> ApiError:
    results = [
        {
            "isValid": False,
            "message": p.message,
            "error": p.code,
            "name": name,
            "localizedErrorMessage": p.message,
            "portalId": portal.hub_id,
        }
        for name, p in problems
    ]
    return ApiError(
        400,
        error_body(
            "Property values were not valid: " + json.dumps(results, separators=(",", ":")),
            "VALIDATION_ERROR",
            errors=[
                {"message": p.message, "code": p.code, "context": {"propertyName": [name]}}
                for name, p in problems
            ],
        ),
    )


def _to_ms(value: Any) -> int:
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if not _ISO.match(text):
        raise ValueError(text)
    if len(text) == 10:
        return int(
            datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC).timestamp() * 1000
        )
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def normalise_value(portal: Portal, object_type: str, name: str, value: Any, prop: dict) -> str:
    """The stored string for `value`, or PropertyProblem as HubSpot would report it."""
    if value is None or value == "":
        return ""
    ptype = prop["type"]
    if isinstance(value, bool):
        value = "true" if value else "false"
    if ptype == "number":
        try:
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise PropertyProblem("INVALID_DECIMAL", f"{value} was not a valid number.") from None
        return str(value).strip()
    if ptype == "bool":
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise PropertyProblem("INVALID_BOOLEAN", f"{value} was not a valid boolean.")
        return text
    if ptype in ("datetime", "date"):
        try:
            ms = _to_ms(value)
        except (ValueError, OverflowError):
            raise PropertyProblem(
                "INVALID_DATE", f"{value} is not a valid date or epoch milliseconds."
            ) from None
        if ptype == "date":
            if ms % 86_400_000:
                raise PropertyProblem(
                    "INVALID_DATE", f"{value} is not at midnight UTC, which a date property needs."
                )
            return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")
        return iso(ms / 1000)
    if ptype == "enumeration":
        allowed = portal.allowed_options(object_type, name)
        parts = str(value).split(";") if prop["fieldType"] == "checkbox" else [str(value)]
        for part in parts:
            if part not in allowed:
                if name == "hs_line_item_currency_code":
                    raise PropertyProblem(
                        "INVALID_OPTION",
                        f"Provided line item currency {part} is not supported by portal",
                    )
                raise PropertyProblem(
                    "INVALID_OPTION",
                    f"{part} was not one of the allowed options: [{', '.join(allowed)}]",
                )
        return str(value)
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > STRING_MAX:
        raise PropertyProblem(
            "INVALID_STRING_LENGTH",
            f'Property "{name}" value is {len(text)} characters long; the limit is {STRING_MAX}.',
        )
    return text


def validate(
    portal: Portal,
    object_type: str,
    properties: Any,
    *,
    current: dict[str, str] | None,
    lenient: bool = False,
) -> dict[str, str]:
    """Check and normalise `properties` for a create (current None) or an update.

    lenient (the admin routes, "a user in HubSpot's UI"): unknown properties are created as
    custom string properties instead of refused, and read-only ones are skipped.
    """
    if not isinstance(properties, dict):
        raise validation_error("properties must be an object of property names to values")
    clean: dict[str, str] = {}
    problems: list[tuple[str, PropertyProblem]] = []
    for name, value in properties.items():
        prop = portal.property(object_type, name)
        if prop is None or prop.get("archived"):
            if not lenient:
                problems.append(
                    (
                        name,
                        PropertyProblem(
                            "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'
                        ),
                    )
                )
                continue
            prop = schema.property_definition(
                object_type, name, name, "string", "text", None, hubspot_defined=False
            )
            portal.properties[object_type][name] = prop
        if prop["modificationMetadata"]["readOnlyValue"]:
            if not lenient:
                problems.append(
                    (name, PropertyProblem("READ_ONLY_VALUE", f'Property "{name}" is read-only'))
                )
            continue
        try:
            clean[name] = normalise_value(portal, object_type, name, value, prop)
        except PropertyProblem as problem:
            problems.append((name, problem))
    if object_type == "deals" and clean.get("dealstage"):
        pipeline_id = clean.get("pipeline") or (current or {}).get("pipeline") or "default"
        pipeline = next((p for p in portal.pipelines if p["id"] == pipeline_id), None)
        stages = [s["id"] for s in pipeline["stages"]] if pipeline else []
        if clean["dealstage"] not in stages:
            problems.append(
                (
                    "dealstage",
                    PropertyProblem(
                        "INVALID_OPTION",
                        f"{clean['dealstage']} was not one of the allowed options for pipeline "
                        f"{pipeline_id}: [{', '.join(stages)}]",
                    ),
                )
            )
    product_id = clean.get("hs_product_id") if object_type == "line_items" else None
    if product_id and portal.record("products", product_id) is None:
        problems.append(
            (
                "hs_product_id",
                PropertyProblem("INVALID_OBJECT_ID", f"Product {product_id} does not exist"),
            )
        )
    if object_type in ("notes", "tasks") and current is None and not clean.get("hs_timestamp"):
        problems.append(
            (
                "hs_timestamp",
                PropertyProblem("REQUIRED_PROPERTY", 'Property "hs_timestamp" is required'),
            )
        )
    if object_type == "notes" and clean.get("hs_attachment_ids"):
        for file_id in clean["hs_attachment_ids"].split(";"):
            if file_id.strip() not in portal.files:
                problems.append(
                    (
                        "hs_attachment_ids",
                        PropertyProblem("INVALID_OBJECT_ID", f"File {file_id} does not exist"),
                    )
                )
    if problems:
        raise property_errors(portal, problems)
    return clean


def _line_item_amounts(props: dict[str, str]) -> None:
    """HubSpot's calculated line item values. `discount` is a flat amount per unit and
    `hs_discount_percentage` a percentage (hubspot-api.md §3, UNCONFIRMED: see README)."""

    def num(name: str, default: str = "0") -> Decimal:
        try:
            return Decimal(props.get(name) or default)
        except InvalidOperation:
            return Decimal(default)

    quantity = num("quantity", "1") if props.get("quantity") not in (None, "") else Decimal(1)
    pre = num("price") * quantity
    if props.get("hs_discount_percentage"):
        total_discount = pre * num("hs_discount_percentage") / 100
    else:
        total_discount = num("discount") * quantity
    amount = pre - total_discount
    props["hs_pre_discount_amount"] = _fmt(pre)
    props["hs_total_discount"] = _fmt(total_discount)
    props["amount"] = _fmt(amount)
    if props.get("hs_tax_rate"):
        props["hs_tax_amount"] = _fmt(amount * num("hs_tax_rate") / 100)


def _fmt(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.01')):f}"
    return text[:-3] if text.endswith(".00") else text.rstrip("0")


def create(
    sb: Sandbox,
    portal: Portal,
    object_type: str,
    properties: dict[str, str],
    source: Source,
) -> dict[str, Any]:
    """Store a record from validated properties; emits creation + propertyChange changes."""
    now = sb.clock.now()
    object_id = portal.new_id()
    props = {k: v for k, v in properties.items() if v != ""}
    if object_type == "line_items" and props.get("hs_product_id"):
        product = portal.record("products", props["hs_product_id"])
        for name in ("name", "price", "hs_sku", "description", "hs_recurring_billing_period"):
            if product and not props.get(name) and product["properties"].get(name):
                props[name] = product["properties"][name]
    if object_type == "line_items":
        _line_item_amounts(props)
    if object_type == "deals":
        props.setdefault("pipeline", "default")
        if not props.get("dealstage"):
            pipeline = next((p for p in portal.pipelines if p["id"] == props["pipeline"]), None)
            if pipeline and pipeline["stages"]:
                props["dealstage"] = pipeline["stages"][0]["id"]
    stamp = iso(now)
    props["hs_object_id"] = object_id
    props["hs_createdate" if object_type in ("notes", "tasks") else "createdate"] = stamp
    props[schema.LAST_MODIFIED.get(object_type, "hs_lastmodifieddate")] = stamp
    record = {
        "id": object_id,
        "properties": props,
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }
    portal.records.setdefault(object_type, {})[object_id] = record
    ms = int(now * 1000)
    changes = [Change(portal.hub_id, "creation", object_type, object_id, ms, source)]
    changes += [
        Change(portal.hub_id, "propertyChange", object_type, object_id, ms, source, name, value)
        for name, value in properties.items()
        if value != ""
    ]
    sb.emit(changes)
    return record


def update(
    sb: Sandbox,
    portal: Portal,
    object_type: str,
    record: dict[str, Any],
    properties: dict[str, str],
    source: Source,
) -> dict[str, Any]:
    now = sb.clock.now()
    props = record["properties"]
    changed = {k: v for k, v in properties.items() if props.get(k, "") != v}
    for name, value in changed.items():
        if value == "":
            props.pop(name, None)
        else:
            props[name] = value
    if object_type == "line_items":
        _line_item_amounts(props)
    stamp = iso(now)
    props[schema.LAST_MODIFIED.get(object_type, "hs_lastmodifieddate")] = stamp
    record["updatedAt"] = stamp
    ms = int(now * 1000)
    sb.emit(
        [
            Change(portal.hub_id, "propertyChange", object_type, record["id"], ms, source, k, v)
            for k, v in changed.items()
        ]
    )
    return record


def archive(
    sb: Sandbox, portal: Portal, object_type: str, record: dict[str, Any], source: Source
) -> None:
    now = sb.clock.now()
    record["archived"] = True
    record["archivedAt"] = iso(now)
    sb.emit([Change(portal.hub_id, "deletion", object_type, record["id"], int(now * 1000), source)])


def restore(
    sb: Sandbox, portal: Portal, object_type: str, record: dict[str, Any], source: Source
) -> None:
    """Back from the recycling bin (a user's "Restore" in HubSpot): HubSpot sends the
    `restore` event ("when an object is restored (opposite of delete)", HubSpot developer
    changelog "New subscription types for webhooks")."""
    now = sb.clock.now()
    record["archived"] = False
    record.pop("archivedAt", None)
    sb.emit([Change(portal.hub_id, "restore", object_type, record["id"], int(now * 1000), source)])


def privacy_delete(
    sb: Sandbox, portal: Portal, object_type: str, record: dict[str, Any], source: Source
) -> None:
    """A GDPR deletion: the record and its associations are gone for good (not archived, so it
    cannot be restored or read with ?archived=true). HubSpot then sends the ordinary deletion
    event and the `privacyDeletion` hub event (hubspot-api.md §3.1)."""
    ms = int(sb.clock.now() * 1000)
    object_id = record["id"]
    portal.records.get(object_type, {}).pop(object_id, None)
    for (from_type, from_id), linked in list(portal.assoc.items()):
        if (from_type, from_id) == (object_type, object_id):
            del portal.assoc[(from_type, from_id)]
        else:
            linked.get(object_type, {}).pop(object_id, None)
    sb.emit(
        [
            Change(portal.hub_id, "deletion", object_type, object_id, ms, source),
            Change(portal.hub_id, "privacyDeletion", object_type, object_id, ms, source),
        ]
    )


def check_association_inputs(
    portal: Portal, object_type: str, associations: Any
) -> list[tuple[str, str, int]]:
    """The v3 create body's `associations` ([{to: {id}, types: [{associationCategory,
    associationTypeId}]}]) as (to_type, to_id, type_id); 400 for an unknown type id or record."""
    if associations in (None, []):
        return []
    if not isinstance(associations, list):
        raise validation_error("associations must be a list")
    result: list[tuple[str, str, int]] = []
    errors: list[dict[str, Any]] = []
    for item in associations:
        try:
            to_id = str(item["to"]["id"])
            types = item["types"]
        except (KeyError, TypeError):
            raise validation_error("each association needs to.id and types") from None
        for spec in types:
            category = spec.get("associationCategory")
            type_id_ = spec.get("associationTypeId")
            try:
                type_id_ = int(type_id_)
            except (TypeError, ValueError):
                type_id_ = -1
            known = schema.ASSOCIATION_TYPES.get(type_id_)
            if category != "HUBSPOT_DEFINED" or known is None or known[0] != object_type:
                errors.append(
                    {
                        "message": f"{category} association type {spec.get('associationTypeId')} "
                        f"is not valid from {object_type}",
                        "code": "INVALID_ASSOCIATION_TYPE",
                        "context": {"associationTypeId": [str(spec.get("associationTypeId"))]},
                    }
                )
                continue
            to_type = known[1]
            if portal.record(to_type, to_id) is None:
                errors.append(
                    {
                        "message": f"{schema.singular(to_type)} {to_id} does not exist",
                        "code": "INVALID_OBJECT_ID",
                        "context": {"id": [to_id]},
                    }
                )
                continue
            result.append((to_type, to_id, type_id_))
    if errors:
        raise validation_error("One or more associations are invalid", errors)
    return result


def apply_associations(
    portal: Portal, object_type: str, object_id: str, links: list[tuple[str, str, int]]
) -> None:
    for to_type, to_id, type_id_ in links:
        if object_type == "line_items" and to_type == "deals":
            # A line item belongs to exactly one parent (hubspot-api.md §6, line items).
            for deal_id in list(portal.associated("line_items", object_id, "deals")):
                portal.dissociate("line_items", object_id, "deals", deal_id)
        portal.associate(object_type, object_id, to_type, to_id, type_id_)


def view(
    portal: Portal,
    object_type: str,
    record: dict[str, Any],
    properties: list[str] | None = None,
    associations: list[str] | None = None,
) -> dict[str, Any]:
    """The v3 JSON of a record: requested properties (known ones; null when unset) plus the
    ones HubSpot always adds, and `associations` keyed the way v3 names them."""
    props = record["properties"]
    if properties:
        last_modified = schema.LAST_MODIFIED.get(object_type, "hs_lastmodifieddate")
        created = "hs_createdate" if object_type in ("notes", "tasks") else "createdate"
        wanted = [*properties, "hs_object_id", created, last_modified]
        shown = {
            name: props.get(name)
            for name in dict.fromkeys(wanted)
            if name in props or portal.property(object_type, name) is not None
        }
    else:
        shown = {name: props.get(name) for name in schema.DEFAULT_READ[object_type]}
    result: dict[str, Any] = {
        "id": record["id"],
        "properties": shown,
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "archived": record["archived"],
    }
    if record.get("archivedAt"):
        result["archivedAt"] = record["archivedAt"]
    if associations:
        found: dict[str, Any] = {}
        for raw in associations:
            try:
                to_type = schema.object_type(raw.strip())
            except ApiError:
                continue
            linked = portal.associated(object_type, record["id"], to_type)
            if not linked:
                continue
            results = [
                {"id": to_id, "type": schema.ASSOCIATION_TYPES[tid][2]}
                for to_id, tids in linked.items()
                for tid in tids
            ]
            found[schema.OBJECT_TYPES[to_type][2]] = {"results": results}
        if found:
            result["associations"] = found
    return result
