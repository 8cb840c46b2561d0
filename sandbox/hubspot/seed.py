"""The portals a reset starts from: 9000001 "Sandbox Demo AB" (SEK, EUR, USD; demo companies,
contacts, products and deals with line items) and 9000002 "Sandbox Second AB" (SEK; a little
data). Ids are deterministic, so a reset always gives the same records."""

from __future__ import annotations

from typing import Any

from sandbox.hubspot import records, schema
from sandbox.hubspot.store import Portal, Source, iso

DEFAULT_HUB = 9000001
SECOND_HUB = 9000002
# superAdmin and marketplaceAccess: who may complete the OAuth consent (sandbox/hubspot/users.py).
ADMIN = {
    "id": 501,
    "email": "admin@sandbox.example",
    "firstName": "Ada",
    "lastName": "Admin",
    "superAdmin": True,
    "marketplaceAccess": True,
}
# A sales rep: no Marketplace Access, so HubSpot refuses them the install consent.
SALES = {
    "id": 502,
    "email": "sales@sandbox.example",
    "firstName": "Sam",
    "lastName": "Sales",
    "superAdmin": False,
    "marketplaceAccess": False,
    "roleIds": ["7001"],
}
SEED_SOURCE = Source("CRM_UI", "userId:501")


def default_pipelines() -> list[dict[str, Any]]:
    def stage(sid: str, label: str, order: int, probability: str, closed: bool) -> dict:
        return {
            "id": sid,
            "label": label,
            "displayOrder": order,
            "metadata": {"isClosed": "true" if closed else "false", "probability": probability},
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            "archived": False,
        }

    return [
        {
            "id": "default",
            "label": "Sales Pipeline",
            "displayOrder": 0,
            "archived": False,
            "stages": [
                stage("appointmentscheduled", "Appointment Scheduled", 0, "0.2", False),
                stage("qualifiedtobuy", "Qualified To Buy", 1, "0.4", False),
                stage("presentationscheduled", "Presentation Scheduled", 2, "0.6", False),
                stage("decisionmakerboughtin", "Decision Maker Bought-In", 3, "0.8", False),
                stage("contractsent", "Contract Sent", 4, "0.9", False),
                stage("closedwon", "Closed Won", 5, "1.0", True),
                stage("closedlost", "Closed Lost", 6, "0.0", True),
            ],
        },
        {
            "id": "9100001",
            "label": "Renewals",
            "displayOrder": 1,
            "archived": False,
            "stages": [
                stage("9100002", "Renewal due", 0, "0.5", False),
                stage("9100003", "Renewed", 1, "1.0", True),
                stage("9100004", "Not renewed", 2, "0.0", True),
            ],
        },
    ]


def empty_portal(
    hub_id: int, name: str, currencies: list[str] | None = None, users: list[dict] | None = None
) -> Portal:
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    portal = Portal(
        hub_id=hub_id,
        name=name,
        domain=f"{slug}.example",
        users=users or [dict(ADMIN)],
        currencies=list(currencies or schema.CURRENCIES_DEFAULT),
        pipelines=default_pipelines(),
    )
    created = iso(1_704_067_200)  # 2024-01-01
    for object_type, groups in schema.GROUPS.items():
        portal.groups[object_type] = {
            g: {"name": g, "label": label, "displayOrder": 0, "archived": False}
            for g, label in groups
        }
        defs = list(schema.STANDARD[object_type])
        portal.properties[object_type] = {
            n: schema.property_definition(object_type, n, lab, t, ft, opts, now_iso=created)
            for n, lab, t, ft, opts in defs
        }
        portal.records[object_type] = {}
    return portal


class _SeedContext:
    """What records.create needs from the sandbox, without webhooks (a seed is not a change)."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock

    def emit(self, changes: list) -> None:
        pass


def _make(ctx, portal: Portal, object_type: str, props: dict, links=()) -> str:
    clean = records.validate(portal, object_type, props, current=None)
    record = records.create(ctx, portal, object_type, clean, SEED_SOURCE)
    for to_type, to_id in links:
        portal.associate(
            object_type, record["id"], to_type, to_id, _seed_type(object_type, to_type)
        )
    return record["id"]


def _seed_type(from_type: str, to_type: str) -> int:
    if (from_type, to_type) in (("deals", "companies"), ("contacts", "companies")):
        return 5 if from_type == "deals" else 1  # the UI makes the first company primary
    return schema.DEFAULT_TYPE[(from_type, to_type)]


def _deal(ctx, portal, props, company=None, contact=None, lines=()) -> str:
    links = []
    if company:
        links.append(("companies", company))
    if contact:
        links.append(("contacts", contact))
    deal_id = _make(ctx, portal, "deals", props, links)
    for line in lines:
        _make(ctx, portal, "line_items", line, [("deals", deal_id)])
    return deal_id


def demo_portal(clock: Any) -> Portal:
    portal = empty_portal(
        DEFAULT_HUB,
        "Sandbox Demo AB",
        users=[
            dict(ADMIN),
            dict(SALES),
        ],
    )
    ctx = _SeedContext(clock)
    nordljus = _make(
        ctx,
        portal,
        "companies",
        {
            "name": "Nordljus Konsult AB",
            "domain": "nordljus.example",
            "city": "Stockholm",
            "zip": "111 22",
            "address": "Drottninggatan 1",
            "country": "Sweden",
            "phone": "+46 8 123 45 67",
        },
    )
    fjall = _make(
        ctx,
        portal,
        "companies",
        {
            "name": "Fjällbacka Design AB",
            "domain": "fjallbacka.example",
            "city": "Göteborg",
            "zip": "411 01",
            "address": "Avenyn 5",
            "country": "Sweden",
        },
    )
    hamburg = _make(
        ctx,
        portal,
        "companies",
        {
            "name": "Hamburg Handels GmbH",
            "domain": "hamburg-handels.example",
            "city": "Hamburg",
            "zip": "20095",
            "address": "Jungfernstieg 7",
            "country": "Germany",
        },
    )
    acme = _make(
        ctx,
        portal,
        "companies",
        {
            "name": "Acme Corp",
            "domain": "acme.example",
            "city": "Springfield",
            "country": "United States",
        },
    )
    anna = _make(
        ctx,
        portal,
        "contacts",
        {
            "firstname": "Anna",
            "lastname": "Svensson",
            "email": "anna@nordljus.example",
            "phone": "+46 70 111 22 33",
        },
        [("companies", nordljus)],
    )
    erik = _make(
        ctx,
        portal,
        "contacts",
        {"firstname": "Erik", "lastname": "Johansson", "email": "erik@fjallbacka.example"},
        [("companies", fjall)],
    )
    lena = _make(
        ctx,
        portal,
        "contacts",
        {"firstname": "Lena", "lastname": "Müller", "email": "lena@hamburg-handels.example"},
        [("companies", hamburg)],
    )
    john = _make(
        ctx,
        portal,
        "contacts",
        {"firstname": "John", "lastname": "Smith", "email": "john@acme.example"},
        [("companies", acme)],
    )
    sara = _make(
        ctx,
        portal,
        "contacts",
        {
            "firstname": "Sara",
            "lastname": "Lind",
            "email": "sara.lind@example.se",
            "address": "Storgatan 3",
            "zip": "753 20",
            "city": "Uppsala",
            "country": "Sweden",
        },
    )
    consulting = _make(
        ctx,
        portal,
        "products",
        {
            "name": "Konsulttimme",
            "hs_sku": "KONS-1",
            "price": "1200",
            "description": "En timmes konsultarbete",
        },
    )
    licence = _make(
        ctx,
        portal,
        "products",
        {
            "name": "Licens, 12 månader",
            "hs_sku": "LIC-12",
            "price": "4990",
            "hs_recurring_billing_period": "P12M",
            "recurringbillingfrequency": "annually",
        },
    )
    support = _make(ctx, portal, "products", {"name": "Support", "hs_sku": "SUP", "price": "300"})
    workshop = _make(
        ctx,
        portal,
        "products",
        {"name": "Workshop", "price": "15000", "description": "Heldagsworkshop (ingen SKU)"},
    )
    shipping = _make(ctx, portal, "products", {"name": "Frakt", "price": "150"})
    _deal(
        ctx,
        portal,
        {
            "dealname": "Nordljus – implementation",
            "amount": "21282",
            "deal_currency_code": "SEK",
            "dealstage": "contractsent",
            "closedate": "2025-06-30",
        },
        nordljus,
        anna,
        [
            {"hs_product_id": consulting, "quantity": "10"},
            {"hs_product_id": licence, "quantity": "2", "hs_discount_percentage": "10"},
            {"hs_product_id": support, "quantity": "1", "hs_tax_rate": "25"},
        ],
    )
    _deal(
        ctx,
        portal,
        {
            "dealname": "Fjällbacka – workshop",
            "amount": "14650",
            "deal_currency_code": "SEK",
            "dealstage": "presentationscheduled",
        },
        fjall,
        erik,
        [
            {"hs_product_id": workshop, "quantity": "1", "discount": "500"},
            {"hs_product_id": shipping, "quantity": "1"},
        ],
    )
    _deal(
        ctx,
        portal,
        {
            "dealname": "Hamburg – licences",
            "amount": "2250",
            "deal_currency_code": "EUR",
            "dealstage": "decisionmakerboughtin",
        },
        hamburg,
        lena,
        [
            {
                "hs_product_id": licence,
                "quantity": "5",
                "price": "450",
                "hs_line_item_currency_code": "EUR",
            },
        ],
    )
    _deal(
        ctx,
        portal,
        {
            "dealname": "Acme – pilot",
            "amount": "2200",
            "deal_currency_code": "USD",
            "dealstage": "qualifiedtobuy",
        },
        acme,
        john,
        [
            {
                "name": "Consulting hour",
                "hs_product_id": consulting,
                "quantity": "20",
                "price": "110",
                "hs_line_item_currency_code": "USD",
            },
        ],
    )
    _deal(
        ctx,
        portal,
        {
            "dealname": "Sara Lind – support",
            "amount": "300",
            "deal_currency_code": "SEK",
            "dealstage": "appointmentscheduled",
        },
        None,
        sara,
        [
            {"hs_product_id": support, "quantity": "1"},
        ],
    )
    _deal(
        ctx,
        portal,
        {
            "dealname": "Nordljus – förstudie",
            "amount": "6000",
            "deal_currency_code": "SEK",
            "dealstage": "closedwon",
        },
        nordljus,
        anna,
        [
            {"name": "Förstudie", "quantity": "5", "price": "1200", "hs_sku": "KONS-1"},
        ],
    )
    _deal(
        ctx,
        portal,
        {
            "dealname": "Fjällbacka – licence renewal",
            "amount": "4990",
            "deal_currency_code": "SEK",
            "pipeline": "9100001",
            "dealstage": "9100002",
        },
        fjall,
        erik,
        [
            {"hs_product_id": licence, "quantity": "1"},
        ],
    )
    return portal


def second_portal(clock: Any) -> Portal:
    portal = empty_portal(
        SECOND_HUB,
        "Sandbox Second AB",
        currencies=["SEK"],
        users=[
            dict(ADMIN),
            {
                "id": 601,
                "email": "owner@second.example",
                "firstName": "Olle",
                "lastName": "Owner",
                "superAdmin": True,
                "marketplaceAccess": True,
            },
        ],
    )
    ctx = _SeedContext(clock)
    company = _make(
        ctx,
        portal,
        "companies",
        {
            "name": "Andra Bolaget AB",
            "city": "Malmö",
            "country": "Sweden",
        },
    )
    contact = _make(
        ctx,
        portal,
        "contacts",
        {"firstname": "Olle", "lastname": "Berg", "email": "olle@andra.example"},
        [("companies", company)],
    )
    product = _make(ctx, portal, "products", {"name": "Tjänst", "hs_sku": "TJ-1", "price": "1000"})
    _deal(
        ctx,
        portal,
        {
            "dealname": "Andra – tjänst",
            "amount": "3000",
            "deal_currency_code": "SEK",
            "dealstage": "contractsent",
        },
        company,
        contact,
        [
            {"hs_product_id": product, "quantity": "3"},
        ],
    )
    return portal


def seed_portals(clock: Any) -> dict[int, Portal]:
    return {DEFAULT_HUB: demo_portal(clock), SECOND_HUB: second_portal(clock)}
