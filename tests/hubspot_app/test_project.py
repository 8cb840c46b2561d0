"""The HubSpot developer-platform project (hubspot-app/) against the service it points at.

(a) Always: every hsmeta/profile file parses; with each profile's variables substituted, the
    OAuth redirect URL, the webhook target, the workflow action URLs and permittedUrls.fetch
    name one origin and the service's own paths; the scopes cover what the features call.
(b) When node and hubspot-app/node_modules are there: HubSpot's parser (validate.mjs) passes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "hubspot-app"
SRC = APP_DIR / "src"
PRODUCTION_ORIGIN = "https://fortnox-hubspot.cloudify.biz"
VARIABLE = re.compile(r"\$\{([^}]*)\}")

DEAL_ACTIONS = {"create-invoice": "DEAL", "create-order": "DEAL"}
# "Sync to Fortnox customer" (contacts, companies) is declared once the service handles it;
# a declared action the service refuses would break users' workflows.
CUSTOMER_ACTIONS: dict[str, str] = {}
# HubSpot has no product-based workflows: the product sync runs from deals.
PRODUCT_ACTIONS = {"sync-deal-products": "DEAL"}


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def meta_files() -> list[Path]:
    return sorted(SRC.rglob("*-hsmeta.json"))


def profiles() -> dict[str, dict]:
    return {p.name.split(".")[1]: load(p) for p in sorted(SRC.glob("hsprofile.*.json"))}


def substitute(value, variables: dict):
    """What HubSpot does with a profile: ${NAME} replaced everywhere in a config."""
    if isinstance(value, str):

        def one(match: re.Match) -> str:
            assert match.group(1) in variables, f"profile lacks variable {match.group(1)}"
            return str(variables[match.group(1)])

        return VARIABLE.sub(one, value)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables) for key, item in value.items()}
    return value


def components(profile: str | None = None) -> dict[str, list[dict]]:
    """Component configs by type, with a profile's variables applied when one is named."""
    variables = profiles()[profile]["variables"] if profile else None
    found: dict[str, list[dict]] = {}
    for path in meta_files():
        meta = load(path)
        config = substitute(meta["config"], variables) if variables else meta["config"]
        found.setdefault(meta["type"], []).append({**meta, "config": config, "path": path})
    return found


def app_config(profile: str | None = None) -> dict:
    (app,) = components(profile)["app"]
    return app["config"]


def scopes() -> tuple[set[str], set[str]]:
    auth = app_config()["auth"]
    return set(auth["requiredScopes"]), set(auth.get("optionalScopes", []))


# --- (a) static checks -----------------------------------------------------------------------


def test_every_project_file_is_json():
    files = [APP_DIR / "hsproject.json", *SRC.glob("hsprofile.*.json"), *meta_files()]
    assert len(meta_files()) >= 4  # app, webhooks, two workflow actions
    for path in files:
        load(path)  # raises with the file's line and column when it is not JSON
    project = load(APP_DIR / "hsproject.json")
    assert project["srcDir"] == "src"
    assert project["platformVersion"] in {"2025.2", "2026.03"}


def test_components_are_where_hubspot_looks_for_them():
    by_type = components()
    assert [c["path"].relative_to(SRC).as_posix() for c in by_type["app"]] == [
        "app/app-hsmeta.json"
    ]
    assert [c["path"].relative_to(SRC).as_posix() for c in by_type["webhooks"]] == [
        "app/webhooks/webhooks-hsmeta.json"
    ]
    assert {c["path"].parent.relative_to(SRC).as_posix() for c in by_type["workflow-action"]} == {
        "app/workflow-actions"
    }
    uids = [c["uid"] for kind in by_type.values() for c in kind]
    assert len(uids) == len(set(uids))
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", uid) for uid in uids)


def test_the_origin_is_only_in_the_profiles():
    assert {"production", "development"} <= set(profiles())
    assert profiles()["production"]["variables"]["PUBLIC_BASE_URL"] == PRODUCTION_ORIGIN
    for name, profile in profiles().items():
        origin = profile["variables"]["PUBLIC_BASE_URL"]
        assert urlsplit(origin).scheme == "https", f"{name}: HubSpot needs https"
        assert not urlsplit(origin).path.strip("/"), f"{name}: an origin, without a path"
    origins = {p["variables"]["PUBLIC_BASE_URL"].rstrip("/") for p in profiles().values()}
    for path in meta_files():
        text = path.read_text(encoding="utf-8")
        assert not [o for o in origins if o in text], (
            f"{path.name}: use ${{PUBLIC_BASE_URL}}, not a literal origin"
        )


def urls_of(profile: str) -> dict[str, list[str]]:
    by_type = components(profile)
    app = app_config(profile)
    return {
        "redirect": app["auth"]["redirectUrls"],
        "fetch": app["permittedUrls"]["fetch"],
        "webhooks": [c["config"]["settings"]["targetUrl"] for c in by_type["webhooks"]],
        "actions": [c["config"]["actionUrl"] for c in by_type["workflow-action"]],
    }


@pytest.mark.parametrize("profile", ["production", "development"])
def test_every_url_names_the_profile_origin_and_a_service_path(profile):
    origin = profiles()[profile]["variables"]["PUBLIC_BASE_URL"].rstrip("/")
    urls = urls_of(profile)
    assert urls["redirect"] == [f"{origin}/hubspot/oauth/callback"]
    assert urls["webhooks"] == [f"{origin}/hubspot/webhooks"]
    assert urls["fetch"] == [origin]
    kinds = {**DEAL_ACTIONS, **CUSTOMER_ACTIONS, **PRODUCT_ACTIONS}
    assert sorted(urls["actions"]) == sorted(
        f"{origin}/hubspot/workflow-actions/{kind}" for kind in kinds
    )
    for url in [*urls["redirect"], *urls["webhooks"], *urls["actions"], *urls["fetch"]]:
        assert not VARIABLE.search(url), url
        assert f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" == origin, url


def test_the_paths_are_the_services_routes():
    urls = urls_of("production")
    assert resolve(urlsplit(urls["redirect"][0]).path).url_name == "hubspot-oauth-callback"
    assert resolve(urlsplit(urls["webhooks"][0]).path).url_name == "hubspot-webhooks"
    for url in urls["actions"]:
        assert resolve(urlsplit(url).path).url_name == "hubspot-workflow-action"


def test_the_service_knows_no_action_the_project_lacks():
    from sync.workflows import ACTIONS

    defined = {c["config"]["actionUrl"].rsplit("/", 1)[1] for c in components()["workflow-action"]}
    assert set(ACTIONS) <= defined


def test_scopes_cover_the_features():
    required, optional = scopes()
    assert not required & optional
    # One run: read the deal, its company/contact, line items and products; write the deal's
    # own properties (document number, status); create the note (the notes API takes the
    # contacts scopes); create the app's deal properties.
    assert {
        "oauth",
        "crm.objects.deals.read",
        "crm.objects.deals.write",
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.objects.companies.read",
        "crm.objects.line_items.read",
        "crm.objects.products.read",
        "crm.schemas.deals.write",
    } <= required
    granted = required | optional
    # Features that degrade when the portal does not grant them.
    assert {
        "files",
        "automation",
        "crm.objects.companies.write",
        "crm.schemas.contacts.write",
        "crm.schemas.companies.write",
    } <= granted
    # A webhook subscription needs its object's read scope.
    read_scope = {
        "deal": "crm.objects.deals.read",
        "contact": "crm.objects.contacts.read",
        "company": "crm.objects.companies.read",
        "product": "crm.objects.products.read",
    }
    (webhooks,) = components()["webhooks"]
    for sub in webhooks["config"]["subscriptions"]["crmObjects"]:
        assert read_scope[sub["objectType"]] in required, sub
    # Workflow actions are defined, so automation must be asked for.
    assert components()["workflow-action"] and "automation" in granted


def test_the_service_reads_its_scopes_from_this_file():
    from integrations.hubspot.scopes import optional_scopes, required_scopes

    required, optional = scopes()
    assert set(required_scopes()) == required
    assert set(optional_scopes()) == optional


def test_webhook_subscriptions():
    (webhooks,) = components()["webhooks"]
    config = webhooks["config"]
    assert config["settings"]["maxConcurrentRequests"] == 10
    subs = config["subscriptions"]["crmObjects"]
    assert all(sub["active"] is True for sub in subs)
    created = {sub["objectType"] for sub in subs if sub["subscriptionType"] == "object.creation"}
    changed: dict[str, set[str]] = {}
    for sub in subs:
        if sub["subscriptionType"] == "object.propertyChange":
            changed.setdefault(sub["objectType"], set()).add(sub["propertyName"])
    assert changed["deal"] == {"dealstage"}
    assert created == {"product", "contact", "company"}
    assert {"name", "hs_sku", "price", "description"} <= changed["product"]
    assert {
        "email",
        "firstname",
        "lastname",
        "phone",
        "address",
        "zip",
        "city",
        "country",
    } <= changed["contact"]
    assert {
        "name",
        "fortnox_organisation_number",
        "phone",
        "address",
        "zip",
        "city",
        "country",
    } <= changed["company"]
    keys = [(s["subscriptionType"], s["objectType"], s.get("propertyName")) for s in subs]
    assert len(keys) == len(set(keys))


def test_workflow_actions():
    actions = {
        c["config"]["actionUrl"].rsplit("/", 1)[1]: c["config"]
        for c in components()["workflow-action"]
    }
    for kind, object_type in {**DEAL_ACTIONS, **CUSTOMER_ACTIONS}.items():
        config = actions[kind]
        assert config["objectTypes"] == [object_type]
        assert config["supportedClients"] == [{"client": "WORKFLOWS"}]
        assert config["isPublished"] is True
        assert not [f for f in config.get("inputFields", []) if f.get("isRequired")]
        outputs = {f["typeDefinition"]["name"] for f in config["outputFields"]}
        number = "fortnox_document_number" if kind in DEAL_ACTIONS else "fortnox_customer_number"
        assert {number, "fortnox_status", "fortnox_error"} <= outputs
        labels = config["labels"]["en"]
        assert labels["actionName"]
        assert set(labels["outputFieldLabels"]) == outputs
    assert actions["create-invoice"]["labels"]["en"]["actionName"] == "Create Fortnox invoice"
    assert actions["create-order"]["labels"]["en"]["actionName"] == "Create Fortnox order"
    for kind in CUSTOMER_ACTIONS:
        assert actions[kind]["labels"]["en"]["actionName"] == "Sync to Fortnox customer"
    products = actions["sync-deal-products"]
    assert products["objectTypes"] == ["DEAL"]
    assert {f["typeDefinition"]["name"] for f in products["outputFields"]} == {
        "fortnox_article_numbers",
        "fortnox_status",
        "fortnox_error",
    }


# --- (b) HubSpot's own parser --------------------------------------------------------------


def test_hubspot_project_parsing_lib_accepts_the_project():
    node = shutil.which("node")
    if node is None or not (APP_DIR / "node_modules" / "@hubspot" / "project-parsing-lib").is_dir():
        pytest.skip(
            "HubSpot's validator is not installed: run `cd hubspot-app && npm ci` "
            "(needs Node.js 18+), then run the tests again"
        )
    done = subprocess.run(
        [node, "validate.mjs"],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is valid for" in done.stdout
