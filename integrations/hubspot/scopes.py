"""The app's OAuth scopes, read from the HubSpot project (hubspot-app/src/app/app-hsmeta.json).

HubSpot refuses an install whose authorize URL lacks a scope the app marks required
(hubspot-api.md §1.1), so the project file is the one source of truth for both.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings

APP_META = Path("hubspot-app") / "src" / "app" / "app-hsmeta.json"

# Optional: who is a super admin (integrations/hubspot/users.py). Optional because a new
# required scope changes every install and old tokens lack it until re-authorised.
USERS_READ_SCOPE = "settings.users.read"


@lru_cache(maxsize=1)
def _auth_config() -> dict:
    with open(Path(settings.BASE_DIR) / APP_META, encoding="utf-8") as fh:
        return json.load(fh)["config"]["auth"]


def required_scopes() -> list[str]:
    return list(_auth_config().get("requiredScopes", []))


def optional_scopes() -> list[str]:
    return list(_auth_config().get("optionalScopes", []))
