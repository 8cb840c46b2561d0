"""Properties, pipelines, associations v4, files and workflow-action definitions, through the SDK
(the calls integrations/hubspot/ makes) and raw HTTP."""

from __future__ import annotations

import json

import pytest
import requests
from hubspot.automation.actions import PublicActionDefinitionEgg, PublicActionDefinitionPatch
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)
from hubspot.crm.properties import (
    BatchInputPropertyCreate,
    OptionInput,
    PropertyCreate,
    PropertyGroupCreate,
)

from sandbox.hubspot.testing import admin, sdk, token

HUB = 9000001
DEAL = "10015"


@pytest.fixture
def client(hubspot_url):
    return sdk(hubspot_url, token(hubspot_url))


def test_property_group_and_properties_as_the_app_creates_them(client):
    groups = client.crm.properties.groups_api.get_all("deals")
    assert "dealinformation" in {g.name for g in groups.results}
    client.crm.properties.groups_api.create(
        "deals", PropertyGroupCreate(name="fortnox", label="Fortnox", display_order=-1)
    )
    with pytest.raises(Exception) as caught:
        client.crm.properties.groups_api.create(
            "deals", PropertyGroupCreate(name="fortnox", label="Fortnox")
        )
    assert caught.value.status == 409
    created = client.crm.properties.batch_api.create(
        "deals",
        BatchInputPropertyCreate(
            inputs=[
                PropertyCreate(
                    name="fortnox_document_number",
                    label="Doc",
                    type="string",
                    field_type="text",
                    group_name="fortnox",
                ),
                PropertyCreate(
                    name="fortnox_status",
                    label="Status",
                    type="enumeration",
                    field_type="select",
                    group_name="fortnox",
                    options=[
                        OptionInput(label="Created", value="created", display_order=0, hidden=False)
                    ],
                ),
            ]
        ),
    )
    assert {p.name for p in created.results} == {"fortnox_document_number", "fortnox_status"}
    prop = client.crm.properties.core_api.get_by_name("deals", "fortnox_status")
    assert prop.type == "enumeration" and [o.value for o in prop.options] == ["created"]
    assert prop.hubspot_defined is False and prop.group_name == "fortnox"
    # Existing names: 207 with an error each; the new one is created.
    again = client.crm.properties.batch_api.create(
        "deals",
        BatchInputPropertyCreate(
            inputs=[
                PropertyCreate(
                    name="fortnox_status",
                    label="S",
                    type="string",
                    field_type="text",
                    group_name="fortnox",
                ),
                PropertyCreate(
                    name="fortnox_extra",
                    label="E",
                    type="number",
                    field_type="number",
                    group_name="fortnox",
                ),
            ]
        ),
    )
    assert [p.name for p in again.results] == ["fortnox_extra"] and again.num_errors == 1
    # The new properties can be written and are validated by type.
    client.crm.deals.basic_api.update(
        DEAL,
        __import__("hubspot.crm.deals", fromlist=["x"]).SimplePublicObjectInput(
            properties={"fortnox_status": "created", "fortnox_extra": "3"}
        ),
    )


def test_a_fresh_portal_has_none_of_the_apps_properties(client):
    # The app creates its fortnox_* properties at install; seeding any would hide whether it does.
    for object_type in ("deals", "contacts", "companies"):
        names = {p.name for p in client.crm.properties.core_api.get_all(object_type).results}
        assert not {n for n in names if n.startswith("fortnox_")}, object_type


def test_property_definitions_and_enumeration_options(client, hubspot_url):
    deal_props = {p.name: p for p in client.crm.properties.core_api.get_all("deals").results}
    assert [o.value for o in deal_props["deal_currency_code"].options] == ["SEK", "EUR", "USD"]
    assert "closedwon" in [o.value for o in deal_props["dealstage"].options]
    line_props = {p.name: p for p in client.crm.properties.core_api.get_all("line_items").results}
    assert line_props["amount"].modification_metadata.read_only_value is True
    assert {"discount", "hs_discount_percentage", "hs_tax_rate", "hs_sku"} <= set(line_props)
    for object_type in ("contacts", "companies", "products", "notes"):
        assert client.crm.properties.core_api.get_all(object_type).results
    bad = requests.post(
        f"{hubspot_url}/crm/v3/properties/deals",
        json={
            "name": "Bad Name",
            "label": "x",
            "type": "text",
            "fieldType": "text",
            "groupName": "nope",
        },
        headers={"Authorization": f"Bearer {token(hubspot_url)}"},
        timeout=5,
    )
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"
    assert len(bad.json()["errors"]) == 3


def test_pipelines(client):
    pipelines = client.crm.pipelines.pipelines_api.get_all("deals").results
    default = next(p for p in pipelines if p.id == "default")
    assert default.label == "Sales Pipeline"
    won = next(s for s in default.stages if s.id == "closedwon")
    assert won.metadata["isClosed"] == "true"
    assert client.crm.pipelines.pipelines_api.get_by_id("deals", "9100001").label == "Renewals"


def test_associations_v4(client, hubspot_url):
    v4 = client.crm.associations.v4
    page = v4.basic_api.get_page("deals", DEAL, "companies")
    [company] = page.results
    assert company.to_object_id == "10001"
    assert {(t.type_id, t.label) for t in company.association_types} == {
        (5, "Primary"),
        (341, None),
    }
    batch = v4.batch_api.get_page(
        "deals",
        "line_items",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=DEAL)]
        ),
    )
    assert [t.to_object_id for t in batch.results[0].to] == ["10016", "10017", "10018"]
    # Associate another contact with a labelled type, and the other company by default.
    created = v4.basic_api.create(
        "deals",
        DEAL,
        "contacts",
        "10006",
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=3)],
    )
    assert created.to_object_id == "10006"
    v4.basic_api.create_default("deals", DEAL, "companies", "10002")
    raw = admin(hubspot_url, "GET", f"/_sandbox/portals/{HUB}/objects/deals/{DEAL}")
    assert raw["associations"]["contacts"] == ["10005", "10006"]
    assert raw["association_types"]["companies"] == {"10001": [5, 341], "10002": [341]}
    # A type id that does not belong to the pair is refused.
    with pytest.raises(Exception) as caught:
        v4.basic_api.create(
            "deals",
            DEAL,
            "contacts",
            "10007",
            [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=214)],
        )
    assert caught.value.status == 400
    with pytest.raises(Exception) as caught:
        v4.batch_api.create(
            "notes",
            "deals",
            BatchInputPublicAssociationMultiPost(
                inputs=[
                    PublicAssociationMultiPost(
                        _from=PublicObjectId(id=DEAL),
                        to=PublicObjectId(id=DEAL),
                        types=[
                            AssociationSpec(
                                association_category="HUBSPOT_DEFINED", association_type_id=20
                            )
                        ],
                    )
                ]
            ),
        )
    assert caught.value.status == 400


def test_associations_raw_http(hubspot_url):
    headers = {"Authorization": f"Bearer {token(hubspot_url)}"}
    note = requests.post(
        f"{hubspot_url}/crm/v3/objects/notes",
        json={"properties": {"hs_timestamp": "2025-01-01T10:00:00Z", "hs_note_body": "hi"}},
        headers=headers,
        timeout=5,
    ).json()
    put = requests.put(
        f"{hubspot_url}/crm/v4/objects/notes/{note['id']}/associations/deals/{DEAL}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}],
        headers=headers,
        timeout=5,
    )
    assert put.status_code == 201 and put.json()["fromObjectTypeId"] == "0-46"
    wrong = requests.put(
        f"{hubspot_url}/crm/v4/objects/notes/{note['id']}/associations/deals/{DEAL}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
        headers=headers,
        timeout=5,
    )
    assert wrong.status_code == 400 and wrong.json()["category"] == "VALIDATION_ERROR"
    v3 = requests.put(
        f"{hubspot_url}/crm/v3/objects/notes/{note['id']}/associations/contacts/10005/202",
        headers=headers,
        timeout=5,
    )
    assert v3.status_code == 200
    assert v3.json()["associations"]["contacts"]["results"][0]["type"] == "note_to_contact"
    listed = requests.get(
        f"{hubspot_url}/crm/v4/objects/deals/{DEAL}/associations/notes", headers=headers, timeout=5
    ).json()
    assert listed["results"][0]["toObjectId"] == int(note["id"])


def test_file_upload_signed_url_and_note_attachment(client, hubspot_url, tmp_path):
    pdf = tmp_path / "invoice-1.pdf"
    pdf.write_bytes(b"%PDF-1.4 " + b"x" * 2000)
    uploaded = client.files.files_api.upload(
        file=str(pdf),
        file_name="Faktura 1.pdf",
        folder_path="/Fortnox",
        options=json.dumps(
            {"access": "PRIVATE", "overwrite": False, "duplicateValidationStrategy": "NONE"}
        ),
    )
    assert uploaded.access == "PRIVATE" and uploaded.size == 2009
    assert (
        uploaded.name == "Faktura 1"
        and uploaded.extension == "pdf"
        and uploaded.path == "/Fortnox/Faktura 1.pdf"
    )
    signed = client.files.files_api.get_signed_url(uploaded.id)
    download = requests.get(signed.url, timeout=5)
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    stored = admin(hubspot_url, "GET", f"/_sandbox/files/{uploaded.id}")
    assert stored["access"] == "PRIVATE" and stored["size"] == 2009 and stored["content_b64"]
    # The note the service writes points at it.
    from hubspot.crm.objects import SimplePublicObjectInputForCreate

    note = client.crm.objects.basic_api.create(
        "notes",
        SimplePublicObjectInputForCreate(
            properties={
                "hs_timestamp": "1700000000000",
                "hs_note_body": "PDF",
                "hs_attachment_ids": uploaded.id,
            }
        ),
    )
    assert note.properties["hs_attachment_ids"] == uploaded.id
    # The signed URL stops working once it expires (sandbox clock).
    admin(hubspot_url, "POST", "/_sandbox/clock", json={"advance_seconds": 3601})
    assert requests.get(signed.url, timeout=5).status_code == 403
    # The upload is logged with a summary of the multipart body.
    [logged] = admin(
        hubspot_url, "GET", "/_sandbox/requests?path_prefix=/files/v3/files&method=POST"
    )
    assert logged["body"]["multipart"]["files"][0]["size"] == 2009
    assert json.loads(logged["body"]["multipart"]["fields"]["options"])["access"] == "PRIVATE"


def test_upload_needs_access_and_a_folder(hubspot_url):
    headers = {"Authorization": f"Bearer {token(hubspot_url)}"}
    no_access = requests.post(
        f"{hubspot_url}/files/v3/files",
        files={"file": ("a.txt", b"hi")},
        data={"folderPath": "/x", "options": "{}"},
        headers=headers,
        timeout=5,
    )
    assert no_access.status_code == 400
    no_folder = requests.post(
        f"{hubspot_url}/files/v3/files",
        files={"file": ("a.txt", b"hi")},
        data={"options": json.dumps({"access": "PUBLIC_NOT_INDEXABLE"})},
        headers=headers,
        timeout=5,
    )
    assert no_folder.status_code == 400
    public = requests.post(
        f"{hubspot_url}/files/v3/files",
        files={"file": ("a.txt", b"hi")},
        data={"folderPath": "/docs", "options": json.dumps({"access": "PUBLIC_NOT_INDEXABLE"})},
        headers=headers,
        timeout=5,
    ).json()
    assert requests.get(public["url"], timeout=5).content == b"hi"


def test_workflow_action_definitions(hubspot_url):
    dev = sdk(hubspot_url, api_key="sandbox-developer-key")
    api = dev.automation.actions.definitions_api
    project = api.get_page(1001).results
    ids = [str(5001 + i) for i in range(len(project))]  # one per workflow-actions/*-hsmeta.json
    assert [d.id for d in project] == ids and len(ids) >= 2
    assert project[0].action_url.endswith("/hubspot/workflow-actions/create-invoice")
    created = api.create(
        1001,
        PublicActionDefinitionEgg(
            action_url="https://app.test/hubspot/workflow-actions/sync-customer",
            published=False,
            object_types=["COMPANY"],
            input_fields=[],
            functions=[],
            labels={"en": {"actionName": "Sync to Fortnox customer"}},
        ),
    )
    assert created.id == str(5001 + len(ids)) and created.revision_id == "1"
    patched = api.update(created.id, 1001, PublicActionDefinitionPatch(published=True))
    assert patched.published is True and patched.revision_id == "2"
    assert api.get_by_id(created.id, 1001).published is True
    api.archive(created.id, 1001)
    assert [d.id for d in api.get_page(1001).results] == ids
    # Products have no workflows in HubSpot: an action for them is refused (README).
    refused = requests.post(
        f"{hubspot_url}/automation/v4/actions/1001?hapikey=sandbox-developer-key",
        json={"actionUrl": "https://app.test/x", "objectTypes": ["PRODUCT"]},
        timeout=5,
    )
    assert refused.status_code == 400 and "have no workflows" in refused.text
    wrong_key = requests.get(f"{hubspot_url}/automation/v4/actions/1001?hapikey=nope", timeout=5)
    assert wrong_key.status_code == 401
    other_app = requests.get(
        f"{hubspot_url}/automation/v4/actions/999?hapikey=sandbox-developer-key", timeout=5
    )
    assert other_app.status_code == 404
