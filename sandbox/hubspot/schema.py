"""HubSpot's object types, standard property definitions and association types.

Sources: hubspot-api.md §6 (object paths, association ids confirmed by the SDK enum
hubspot/crm/association_type.py), §3 (line item properties; discount/tax semantics are
UNCONFIRMED there: the choices are in README.md). Only the properties the service and the demo
need are defined; a portal can add custom ones through the properties API.
"""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.http import validation_error

# name -> (objectTypeId, singular, v3 association key as HubSpot names it in read responses)
OBJECT_TYPES: dict[str, tuple[str, str, str]] = {
    "contacts": ("0-1", "contact", "contacts"),
    "companies": ("0-2", "company", "companies"),
    "deals": ("0-3", "deal", "deals"),
    "products": ("0-7", "product", "products"),
    "line_items": ("0-8", "line_item", "line items"),  # HubSpot's key has a space
    "notes": ("0-46", "note", "notes"),
    "tasks": ("0-27", "task", "tasks"),
}
_ALIASES: dict[str, str] = {}
for _name, (_type_id, _singular, _key) in OBJECT_TYPES.items():
    for _alias in (_name, _type_id, _singular, _singular.upper(), _name.upper(), _key):
        _ALIASES[_alias] = _name
_ALIASES.update({"line_item": "line_items", "lineitems": "line_items", "line-items": "line_items"})


def object_type(raw: str) -> str:
    """The canonical plural name for any spelling HubSpot accepts (plural, singular, "0-3")."""
    name = _ALIASES.get(raw) or _ALIASES.get(raw.lower())
    if name is None:
        raise validation_error(f"Unable to infer object type from: {raw}")
    return name


def type_id(name: str) -> str:
    return OBJECT_TYPES[name][0]


def singular(name: str) -> str:
    return OBJECT_TYPES[name][1]


# -- properties -------------------------------------------------------------------------------

CURRENCIES_DEFAULT = ["SEK", "EUR", "USD"]
READ_ONLY = {
    "hs_object_id",
    "createdate",
    "hs_createdate",
    "hs_lastmodifieddate",
    "lastmodifieddate",
    "hs_total_discount",
    "hs_pre_discount_amount",
    "hs_tax_amount",
}
READ_ONLY_BY_TYPE = {"line_items": {"amount"}}
LAST_MODIFIED = {"contacts": "lastmodifieddate"}  # the others use hs_lastmodifieddate

# Properties a read returns when the request names none (HubSpot's defaults per object).
DEFAULT_READ = {
    "contacts": [
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "deals": [
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ],
    "products": [
        "createdate",
        "description",
        "hs_lastmodifieddate",
        "hs_object_id",
        "name",
        "price",
    ],
    "line_items": [
        "amount",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_product_id",
        "name",
        "price",
        "quantity",
    ],
    "notes": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
    "tasks": ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"],
}
# Text properties the search `query` looks in: HubSpot's "default searchable properties" (its
# CRM search guide; for deals dealname, pipeline, dealstage, description and dealtype).
QUERY_PROPERTIES = {
    "contacts": ["firstname", "lastname", "email", "phone", "company"],
    "companies": ["name", "domain", "website", "phone"],
    "deals": ["dealname", "pipeline", "dealstage", "description", "dealtype"],
    "products": ["name", "hs_sku", "description"],
    "line_items": ["name", "hs_sku"],
    "notes": ["hs_note_body"],
    "tasks": ["hs_task_subject", "hs_task_body"],
}

GROUPS = {
    "contacts": [("contactinformation", "Contact information")],
    "companies": [("companyinformation", "Company information")],
    "deals": [("dealinformation", "Deal information")],
    "products": [("productinformation", "Product information")],
    "line_items": [("lineiteminformation", "Line item information")],
    "notes": [("engagement", "Engagement")],
    "tasks": [("task", "Task information")],
}

_LIFECYCLE = [
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
]
_BILLING_FREQUENCY = [
    ("weekly", "Weekly"),
    ("biweekly", "Biweekly"),
    ("monthly", "Monthly"),
    ("quarterly", "Quarterly"),
    ("per_six_months", "Every six months"),
    ("annually", "Annually"),
]
_PRODUCT_TYPE = [
    ("inventory", "Inventory"),
    ("non_inventory", "Non-inventory"),
    ("service", "Service"),
]

# (name, label, type, fieldType, options)
_S = "string"
_N = "number"
_DT = "datetime"
_E = "enumeration"
_B = "bool"
_D = "date"
_COMMON = [
    ("hs_object_id", "Record ID", _N, "number", None),
    ("createdate", "Create Date", _DT, "date", None),
    ("hs_lastmodifieddate", "Last Modified Date", _DT, "date", None),
    ("hubspot_owner_id", "Owner", _S, "text", None),
]
_ADDRESS = [
    ("phone", "Phone Number", _S, "phonenumber", None),
    ("address", "Street Address", _S, "text", None),
    ("city", "City", _S, "text", None),
    ("zip", "Postal Code", _S, "text", None),
    ("state", "State/Region", _S, "text", None),
    ("country", "Country/Region", _S, "text", None),
]
STANDARD: dict[str, list[tuple[str, str, str, str, list[tuple[str, str]] | None]]] = {
    "contacts": [
        ("firstname", "First Name", _S, "text", None),
        ("lastname", "Last Name", _S, "text", None),
        ("email", "Email", _S, "text", None),
        ("mobilephone", "Mobile Phone Number", _S, "phonenumber", None),
        ("company", "Company Name", _S, "text", None),
        ("jobtitle", "Job Title", _S, "text", None),
        ("website", "Website URL", _S, "text", None),
        ("lifecyclestage", "Lifecycle Stage", _E, "radio", _LIFECYCLE),
        ("associatedcompanyid", "Primary Associated Company ID", _N, "number", None),
        ("lastmodifieddate", "Last Modified Date", _DT, "date", None),
        *_ADDRESS,
        *_COMMON,
    ],
    "companies": [
        ("name", "Company name", _S, "text", None),
        ("domain", "Company Domain Name", _S, "text", None),
        ("website", "Website URL", _S, "text", None),
        ("address2", "Street Address 2", _S, "text", None),
        ("industry", "Industry", _S, "text", None),
        ("numberofemployees", "Number of Employees", _N, "number", None),
        ("annualrevenue", "Annual Revenue", _N, "number", None),
        ("description", "Description", _S, "textarea", None),
        ("lifecyclestage", "Lifecycle Stage", _E, "radio", _LIFECYCLE),
        (
            "type",
            "Type",
            _E,
            "select",
            [
                ("PROSPECT", "Prospect"),
                ("PARTNER", "Partner"),
                ("RESELLER", "Reseller"),
                ("VENDOR", "Vendor"),
                ("OTHER", "Other"),
            ],
        ),
        *_ADDRESS,
        *_COMMON,
    ],
    "deals": [
        ("dealname", "Deal Name", _S, "text", None),
        ("amount", "Amount", _N, "number", None),
        ("closedate", "Close Date", _DT, "date", None),
        ("pipeline", "Pipeline", _E, "select", []),  # options: the portal's pipelines
        ("dealstage", "Deal Stage", _E, "radio", []),  # options: every stage of every pipeline
        ("description", "Deal Description", _S, "textarea", None),
        (
            "dealtype",
            "Deal Type",
            _E,
            "radio",
            [("newbusiness", "New Business"), ("existingbusiness", "Existing Business")],
        ),
        ("deal_currency_code", "Currency", _E, "select", []),  # options: the portal's currencies
        (
            "hs_priority",
            "Priority",
            _E,
            "select",
            [("low", "Low"), ("medium", "Medium"), ("high", "High")],
        ),
        *_COMMON,
    ],
    "products": [
        ("name", "Name", _S, "text", None),
        ("description", "Description", _S, "textarea", None),
        ("price", "Unit price", _N, "number", None),
        ("hs_sku", "SKU", _S, "text", None),
        ("hs_cost_of_goods_sold", "Unit cost", _N, "number", None),
        ("hs_recurring_billing_period", "Term", _S, "text", None),
        ("recurringbillingfrequency", "Billing frequency", _E, "select", _BILLING_FREQUENCY),
        ("hs_product_type", "Product type", _E, "select", _PRODUCT_TYPE),
        ("tax", "Tax", _N, "number", None),
        *_COMMON,
    ],
    "line_items": [
        ("name", "Name", _S, "text", None),
        ("description", "Description", _S, "textarea", None),
        ("quantity", "Quantity", _N, "number", None),
        ("price", "Unit price", _N, "number", None),
        ("amount", "Net price", _N, "number", None),
        ("hs_product_id", "Product ID", _N, "number", None),
        ("hs_sku", "SKU", _S, "text", None),
        ("discount", "Unit discount", _N, "number", None),
        ("hs_discount_percentage", "Discount Percentage", _N, "number", None),
        ("hs_total_discount", "Total discount", _N, "number", None),
        ("hs_pre_discount_amount", "Pre-discount amount", _N, "number", None),
        ("hs_tax_rate", "Tax rate", _N, "number", None),
        ("hs_tax_rate_group_id", "Tax rate group ID", _S, "text", None),
        ("hs_tax_amount", "Tax amount", _N, "number", None),
        ("tax", "Tax", _N, "number", None),
        ("hs_line_item_currency_code", "Currency", _E, "select", []),
        ("hs_recurring_billing_period", "Term", _S, "text", None),
        ("recurringbillingfrequency", "Billing frequency", _E, "select", _BILLING_FREQUENCY),
        ("hs_recurring_billing_start_date", "Billing start date", _D, "date", None),
        ("hs_position_on_quote", "Position on quote", _N, "number", None),
        *_COMMON,
    ],
    "notes": [
        ("hs_timestamp", "Activity date", _DT, "date", None),
        ("hs_note_body", "Note body", _S, "html", None),
        ("hs_attachment_ids", "Attached file IDs", _S, "text", None),
        ("hs_createdate", "Created at", _DT, "date", None),
        ("hs_object_id", "Record ID", _N, "number", None),
        ("hs_lastmodifieddate", "Last Modified Date", _DT, "date", None),
        ("hubspot_owner_id", "Activity assigned to", _S, "text", None),
    ],
    # HubSpot's tasks guide (developers.hubspot.com/docs/api/crm/tasks): hs_timestamp is the
    # due date; status, priority and type take these values.
    "tasks": [
        ("hs_timestamp", "Due date", _DT, "date", None),
        ("hs_task_subject", "Task Title", _S, "text", None),
        ("hs_task_body", "Notes", _S, "html", None),
        (
            "hs_task_status",
            "Task Status",
            _E,
            "select",
            [("NOT_STARTED", "Not started"), ("COMPLETED", "Completed")],
        ),
        (
            "hs_task_priority",
            "Priority",
            _E,
            "select",
            [("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High")],
        ),
        (
            "hs_task_type",
            "Task Type",
            _E,
            "select",
            [("EMAIL", "Email"), ("CALL", "Call"), ("TODO", "To-do")],
        ),
        ("hs_createdate", "Created at", _DT, "date", None),
        ("hs_object_id", "Record ID", _N, "number", None),
        ("hs_lastmodifieddate", "Last Modified Date", _DT, "date", None),
        ("hubspot_owner_id", "Assigned to", _S, "text", None),
    ],
}


def option(value: str, label: str, order: int) -> dict[str, Any]:
    return {
        "label": label,
        "value": value,
        "description": "",
        "displayOrder": order,
        "hidden": False,
    }


def property_definition(
    object_name: str,
    name: str,
    label: str,
    ptype: str,
    field_type: str,
    options: list[tuple[str, str]] | None,
    *,
    group: str | None = None,
    hubspot_defined: bool = True,
    now_iso: str = "2024-01-01T00:00:00.000Z",
) -> dict[str, Any]:
    read_only = name in READ_ONLY or name in READ_ONLY_BY_TYPE.get(object_name, set())
    return {
        "name": name,
        "label": label,
        "type": ptype,
        "fieldType": field_type,
        "description": "",
        "groupName": group or GROUPS[object_name][0][0],
        "options": [option(v, lab, i) for i, (v, lab) in enumerate(options or [])],
        "displayOrder": -1,
        "calculated": read_only and name not in ("hs_object_id", "createdate"),
        "externalOptions": False,
        "hasUniqueValue": name == "hs_object_id",
        "hidden": False,
        "hubspotDefined": hubspot_defined,
        "showCurrencySymbol": ptype == "number" and name in ("amount", "price"),
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": read_only,
        },
        "formField": not read_only,
        "createdAt": now_iso,
        "updatedAt": now_iso,
        "archived": False,
    }


# -- associations -----------------------------------------------------------------------------
# typeId -> (from, to, v3 label name, v4 label or None). HUBSPOT_DEFINED only.
ASSOCIATION_TYPES: dict[int, tuple[str, str, str, str | None]] = {
    1: ("contacts", "companies", "contact_to_company", "Primary"),
    2: ("companies", "contacts", "company_to_contact", "Primary"),
    279: ("contacts", "companies", "contact_to_company_unlabeled", None),
    280: ("companies", "contacts", "company_to_contact_unlabeled", None),
    3: ("deals", "contacts", "deal_to_contact", None),
    4: ("contacts", "deals", "contact_to_deal", None),
    5: ("deals", "companies", "deal_to_company", "Primary"),
    6: ("companies", "deals", "company_to_deal", "Primary"),
    341: ("deals", "companies", "deal_to_company_unlabeled", None),
    342: ("companies", "deals", "company_to_deal_unlabeled", None),
    19: ("deals", "line_items", "deal_to_line_item", None),
    20: ("line_items", "deals", "line_item_to_deal", None),
    189: ("companies", "notes", "company_to_note", None),
    190: ("notes", "companies", "note_to_company", None),
    201: ("contacts", "notes", "contact_to_note", None),
    202: ("notes", "contacts", "note_to_contact", None),
    213: ("deals", "notes", "deal_to_note", None),
    214: ("notes", "deals", "note_to_deal", None),
    215: ("deals", "tasks", "deal_to_task", None),
    216: ("tasks", "deals", "task_to_deal", None),
}
INVERSE = {1: 2, 3: 4, 5: 6, 19: 20, 189: 190, 201: 202, 213: 214, 215: 216, 279: 280, 341: 342}
INVERSE.update({v: k for k, v in list(INVERSE.items())})
PRIMARY = {1: 279, 2: 280, 5: 341, 6: 342}  # a primary type implies the unlabeled one
DEFAULT_TYPE: dict[tuple[str, str], int] = {}
for _tid, (_from, _to, _name, _label) in ASSOCIATION_TYPES.items():
    if _label is None:
        DEFAULT_TYPE[(_from, _to)] = _tid


def association_type_valid(from_type: str, to_type: str, type_id_: int) -> bool:
    spec = ASSOCIATION_TYPES.get(type_id_)
    return spec is not None and spec[0] == from_type and spec[1] == to_type
