"""The HubSpot sandbox's CRM APIs, driven through hubspot-api-client 12 (as the service calls
them, integrations/hubspot/crm.py) and through raw HTTP."""

from __future__ import annotations

import json

import pytest
import requests
from hubspot.crm.objects import (
    AssociationSpec,
    BatchInputSimplePublicObjectBatchInput,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicAssociationsForObject,
    PublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from sandbox.hubspot.testing import admin, sdk, token

# Each SDK package has its own ApiException class; they all carry .status and .body.
ApiException = Exception

HUB = 9000001
NORDLJUS_DEAL = "10015"  # seeded: 3 line items, company 10001 (primary), contact 10005


@pytest.fixture
def client(hubspot_url):
    return sdk(hubspot_url, token(hubspot_url))


@pytest.fixture
def bearer(hubspot_url):
    scopes = admin(hubspot_url, "GET", "/_sandbox/app")["required_scopes"]
    return {"Authorization": f"Bearer {token(hubspot_url, scopes=[*scopes, 'e-commerce'])}"}


@pytest.fixture
def writer(hubspot_url):
    """A token that may also write line items (the app itself may not)."""
    scopes = admin(hubspot_url, "GET", "/_sandbox/app")["required_scopes"]
    return sdk(hubspot_url, token(hubspot_url, scopes=[*scopes, "crm.objects.line_items.write"]))


def test_deal_read_with_associations_as_the_service_does(client):
    deal = client.crm.objects.basic_api.get_by_id(
        "deals",
        NORDLJUS_DEAL,
        properties=["dealname", "deal_currency_code", "amount", "no_such_property"],
        associations=["line_items", "companies", "contacts"],
    )
    assert deal.properties["dealname"] == "Nordljus – implementation"
    assert deal.properties["deal_currency_code"] == "SEK"
    assert "no_such_property" not in deal.properties  # unknown names are ignored on reads
    assoc = deal.associations
    assert [a.id for a in assoc["line items"].results] == ["10016", "10017", "10018"]
    assert {(a.id, a.type) for a in assoc["companies"].results} == {
        ("10001", "deal_to_company"),
        ("10001", "deal_to_company_unlabeled"),
    }
    assert [a.id for a in assoc["contacts"].results] == ["10005"]


def test_object_type_ids_and_default_properties(client, hubspot_url, bearer):
    deal = client.crm.deals.basic_api.get_by_id(NORDLJUS_DEAL)
    assert set(deal.properties) >= {"dealname", "dealstage", "pipeline", "hs_object_id"}
    raw = requests.get(
        f"{hubspot_url}/crm/v3/objects/0-3/{NORDLJUS_DEAL}", headers=bearer, timeout=5
    )
    assert raw.status_code == 200 and raw.json()["id"] == NORDLJUS_DEAL
    bad = requests.get(f"{hubspot_url}/crm/v3/objects/widgets/1", headers=bearer, timeout=5)
    assert bad.status_code == 400 and "Unable to infer object type" in bad.json()["message"]
    missing = requests.get(f"{hubspot_url}/crm/v3/objects/deals/999", headers=bearer, timeout=5)
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"


def test_batch_read_line_items_and_products(client):
    items = client.crm.objects.batch_api.read(
        "line_items",
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in ("10016", "10017", "10018")],
            properties=[
                "name",
                "quantity",
                "price",
                "hs_product_id",
                "hs_discount_percentage",
                "hs_sku",
            ],
            properties_with_history=[],
        ),
    )
    by_id = {r.id: r.properties for r in items.results}
    assert by_id["10017"]["hs_discount_percentage"] == "10"
    assert by_id["10016"]["hs_sku"] == "KONS-1"  # copied from the product at creation
    products = client.crm.products.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=by_id[i]["hs_product_id"]) for i in by_id],
            properties=["name", "hs_sku"],
            properties_with_history=[],
        )
    )
    assert sorted(p.properties["hs_sku"] for p in products.results) == ["KONS-1", "LIC-12", "SUP"]


def test_batch_read_with_missing_ids_is_multi_status(hubspot_url, bearer):
    response = requests.post(
        f"{hubspot_url}/crm/v3/objects/line_items/batch/read",
        json={"inputs": [{"id": "10016"}, {"id": "424242"}], "properties": ["name"]},
        headers=bearer,
        timeout=5,
    )
    assert response.status_code == 207
    body = response.json()
    assert [r["id"] for r in body["results"]] == ["10016"]
    assert body["errors"][0]["context"]["ids"] == ["424242"]
    too_many = requests.post(
        f"{hubspot_url}/crm/v3/objects/deals/batch/read",
        json={"inputs": [{"id": str(i)} for i in range(101)]},
        headers=bearer,
        timeout=5,
    )
    assert too_many.status_code == 400


def test_batch_update_lands_the_others_and_names_a_missing_id_as_hubspot_does(
    client, hubspot_url, bearer
):
    def batch(*ids: str) -> BatchInputSimplePublicObjectBatchInput:
        return BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=i, properties={"description": f"batch {i}"})
                for i in ids
            ]
        )

    # 207 Multi-Status, as the SDK reads it: the existing deal updated, the missing one named.
    answer = client.crm.objects.batch_api.update("deals", batch(NORDLJUS_DEAL, "424242"))
    assert [r.id for r in answer.results] == [NORDLJUS_DEAL]
    [error] = answer.errors
    assert (error.category, error.context["ids"]) == ("OBJECT_NOT_FOUND", ["424242"])
    deal = client.crm.objects.basic_api.get_by_id(
        "deals", NORDLJUS_DEAL, properties=["description"]
    )
    assert deal.properties["description"] == f"batch {NORDLJUS_DEAL}"
    # Everything found: 200.
    assert (
        requests.post(
            f"{hubspot_url}/crm/v3/objects/deals/batch/update",
            json=batch(NORDLJUS_DEAL).to_dict(),
            headers=bearer,
            timeout=5,
        ).status_code
        == 200
    )
    # An id given twice refuses the whole batch.
    twice = requests.post(
        f"{hubspot_url}/crm/v3/objects/deals/batch/update",
        json={
            "inputs": [
                {"id": NORDLJUS_DEAL, "properties": {"description": "one"}},
                {"id": NORDLJUS_DEAL, "properties": {"description": "two"}},
            ]
        },
        headers=bearer,
        timeout=5,
    )
    assert twice.status_code == 400
    assert "Duplicate IDs found in batch input" in twice.json()["message"]
    deal = client.crm.objects.basic_api.get_by_id(
        "deals", NORDLJUS_DEAL, properties=["description"]
    )
    assert deal.properties["description"] == f"batch {NORDLJUS_DEAL}"


def test_create_update_and_the_note_the_service_writes(client, hubspot_url):
    deal = client.crm.deals.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"dealname": "SDK deal", "dealstage": "appointmentscheduled", "amount": "10"}
        )
    )
    assert deal.properties["dealname"] == "SDK deal"
    client.crm.objects.basic_api.update(
        "deals", deal.id, SimplePublicObjectInput(properties={"dealstage": "closedwon"})
    )
    note = client.crm.objects.basic_api.create(
        "notes",
        SimplePublicObjectInputForCreate(
            properties={"hs_timestamp": "1700000000000", "hs_note_body": "<p>Hello</p>"},
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=deal.id),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED", association_type_id=214
                        )
                    ],
                )
            ],
        ),
    )
    raw = admin(hubspot_url, "GET", f"/_sandbox/portals/{HUB}/objects/deals/{deal.id}")
    assert raw["properties"]["dealstage"] == "closedwon"
    assert raw["associations"]["notes"] == [note.id]
    stored = admin(hubspot_url, "GET", f"/_sandbox/portals/{HUB}/objects/notes/{note.id}")
    assert stored["properties"]["hs_timestamp"] == "2023-11-14T22:13:20.000Z"


def _error(exc: ApiException) -> dict:
    return json.loads(exc.body)


def test_validation_errors_have_hubspots_body(client):
    with pytest.raises(ApiException) as caught:
        client.crm.deals.basic_api.update(
            NORDLJUS_DEAL, SimplePublicObjectInput(properties={"nope": "1", "amount": "ten"})
        )
    body = _error(caught.value)
    assert caught.value.status == 400
    assert (
        body["status"] == "error"
        and body["category"] == "VALIDATION_ERROR"
        and body["correlationId"]
    )
    assert body["message"].startswith("Property values were not valid: ")
    assert {e["code"] for e in body["errors"]} == {"PROPERTY_DOESNT_EXIST", "INVALID_DECIMAL"}
    with pytest.raises(ApiException) as caught:
        client.crm.deals.basic_api.update(
            NORDLJUS_DEAL, SimplePublicObjectInput(properties={"dealstage": "9100002"})
        )
    assert _error(caught.value)["errors"][0]["code"] == "INVALID_OPTION"  # other pipeline's stage


@pytest.mark.parametrize(
    ("properties", "type_id", "code"),
    [
        ({"hs_note_body": "no timestamp"}, 214, "REQUIRED_PROPERTY"),
        (
            {"hs_timestamp": "1700000000000", "hs_note_body": "x" * 65_537},
            214,
            "INVALID_STRING_LENGTH",
        ),
        (
            {"hs_timestamp": "2024-01-01T00:00:00Z", "hs_attachment_ids": "999"},
            214,
            "INVALID_OBJECT_ID",
        ),
        ({"hs_timestamp": "1700000000000"}, 20, "INVALID_ASSOCIATION_TYPE"),
    ],
)
def test_note_validation(client, properties, type_id, code):
    with pytest.raises(ApiException) as caught:
        client.crm.objects.basic_api.create(
            "notes",
            SimplePublicObjectInputForCreate(
                properties=properties,
                associations=[
                    PublicAssociationsForObject(
                        to=PublicObjectId(id=NORDLJUS_DEAL),
                        types=[
                            AssociationSpec(
                                association_category="HUBSPOT_DEFINED", association_type_id=type_id
                            )
                        ],
                    )
                ],
            ),
        )
    assert caught.value.status == 400
    assert code in {e["code"] for e in _error(caught.value)["errors"]}


def test_read_only_and_currency_validation(hubspot_url, bearer):
    response = requests.post(
        f"{hubspot_url}/crm/v3/objects/line_items",
        json={"properties": {"name": "x", "amount": "5", "hs_line_item_currency_code": "CAD"}},
        headers=bearer,
        timeout=5,
    )
    errors = {e["code"]: e["message"] for e in response.json()["errors"]}
    assert response.status_code == 400
    assert "READ_ONLY_VALUE" in errors
    assert errors["INVALID_OPTION"] == "Provided line item currency CAD is not supported by portal"


def test_line_item_amounts_are_calculated(client, writer):
    item = writer.crm.line_items.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"name": "Unit", "quantity": "3", "price": "100", "discount": "10"},
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=NORDLJUS_DEAL),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED", association_type_id=20
                        )
                    ],
                )
            ],
        )
    )
    read = client.crm.line_items.basic_api.get_by_id(
        item.id, properties=["amount", "hs_total_discount", "hs_pre_discount_amount"]
    )
    assert read.properties["amount"] == "270"
    assert read.properties["hs_total_discount"] == "30"
    deal = client.crm.deals.basic_api.get_by_id(NORDLJUS_DEAL, associations=["line_items"])
    assert item.id in [a.id for a in deal.associations["line items"].results]


def test_list_paging(client):
    page = client.crm.contacts.basic_api.get_page(limit=2)
    assert len(page.results) == 2 and page.paging.next.after
    everything = client.crm.contacts.get_all()
    assert len(everything) == 5


def test_search_filters_sorts_and_paging(client, hubspot_url, bearer):
    request = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(
                filters=[Filter(property_name="deal_currency_code", operator="EQ", value="sek")]
            ),
            FilterGroup(
                filters=[
                    Filter(property_name="amount", operator="GT", value="2000"),
                    Filter(property_name="deal_currency_code", operator="IN", values=["usd"]),
                ]
            ),
        ],
        sorts=["-amount"],
        properties=["dealname", "amount"],
        limit=3,
    )
    page = client.crm.deals.search_api.do_search(public_object_search_request=request)
    assert page.total == 6
    amounts = [float(r.properties["amount"]) for r in page.results]
    assert amounts == sorted(amounts, reverse=True) and len(amounts) == 3
    assert page.paging.next.after == "3"

    def search(body):
        return requests.post(
            f"{hubspot_url}/crm/v3/objects/{body.pop('_type', 'contacts')}/search",
            json=body,
            headers=bearer,
            timeout=5,
        )

    found = search(
        {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "email",
                            "operator": "CONTAINS_TOKEN",
                            "value": "*@nordljus.example",
                        }
                    ]
                }
            ]
        }
    )
    assert [r["properties"]["email"] for r in found.json()["results"]] == ["anna@nordljus.example"]
    no_sku = search(
        {
            "_type": "products",
            "filterGroups": [
                {"filters": [{"propertyName": "hs_sku", "operator": "NOT_HAS_PROPERTY"}]}
            ],
        }
    )
    assert sorted(r["properties"]["name"] for r in no_sku.json()["results"]) == [
        "Frakt",
        "Workshop",
    ]
    lines = search(
        {
            "_type": "line_items",
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "associations.deal",
                            "operator": "EQ",
                            "value": NORDLJUS_DEAL,
                        }
                    ]
                }
            ],
        }
    )
    assert lines.json()["total"] == 3
    too_big = search({"limit": 201})
    assert too_big.status_code == 400


def test_search_is_limited_to_five_per_second(hubspot_url, bearer):
    statuses = [
        requests.post(
            f"{hubspot_url}/crm/v3/objects/deals/search", json={}, headers=bearer, timeout=5
        )
        for _ in range(6)
    ]
    assert [s.status_code for s in statuses[:5]] == [200] * 5
    assert statuses[5].status_code == 429
    body = statuses[5].json()
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "SECONDLY"
    assert "X-HubSpot-RateLimit-Max" not in statuses[0].headers


def test_missing_scope_is_403(hubspot_url):
    limited = sdk(hubspot_url, token(hubspot_url, scopes=["oauth", "crm.objects.contacts.read"]))
    with pytest.raises(ApiException) as caught:
        limited.crm.deals.basic_api.get_by_id(NORDLJUS_DEAL)
    assert caught.value.status == 403
    assert _error(caught.value)["category"] == "MISSING_SCOPES"


def test_unauthenticated_and_expired(hubspot_url):
    assert requests.get(f"{hubspot_url}/crm/v3/objects/deals", timeout=5).status_code == 401
    access = token(hubspot_url)
    admin(hubspot_url, "POST", "/_sandbox/clock", json={"advance_seconds": 1801})
    response = requests.get(
        f"{hubspot_url}/crm/v3/objects/deals",
        headers={"Authorization": f"Bearer {access}"},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert "expired" in response.json()["message"]
