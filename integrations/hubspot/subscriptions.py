"""The webhook subscriptions of the HubSpot project (hubspot-app/src/app/webhooks/
webhooks-hsmeta.json), read from the project itself: they are fixed when the project is
deployed, so the service states them from the same file HubSpot was given."""

from __future__ import annotations

import json
from functools import cache

from django.conf import settings

WEBHOOKS_FILE = ("hubspot-app", "src", "app", "webhooks", "webhooks-hsmeta.json")


@cache
def property_subscriptions() -> dict[str, frozenset[str]]:
    """HubSpot object type ("company", "contact", "deal", "product"...) -> the properties whose
    changes HubSpot sends to the app."""
    path = settings.BASE_DIR.joinpath(*WEBHOOKS_FILE)
    config = json.loads(path.read_text(encoding="utf-8"))["config"]
    found: dict[str, set[str]] = {}
    for subscription in config["subscriptions"].get("crmObjects", []):
        if subscription.get("active") and subscription.get("propertyName"):
            found.setdefault(subscription["objectType"], set()).add(subscription["propertyName"])
    return {object_type: frozenset(names) for object_type, names in found.items()}
