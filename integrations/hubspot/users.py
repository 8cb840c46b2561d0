"""The portal's HubSpot users: who is a super admin (settings users API, scope
`settings.users.read`, an optional scope: hubspot-api.md third addendum §2).

`GET /settings/v3/users/{userId}` (the SDK's path; dated `/settings/users/2026-03/{userId}`)
answers `id`, `email`, `superAdmin`, `roleIds`; `?idProperty=EMAIL` looks a user up by e-mail
(docs: api-reference/settings-user-provisioning-v3/users/get-settings-v3-users-userId). The
list is `GET /settings/v3/users/` with `limit`/`after` paging.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.errors import HubSpotNotFound
from integrations.hubspot.scopes import USERS_READ_SCOPE
from integrations.models import HubSpotInstallation

USERS_PAGE_SIZE = 100
USERS_PAGES_MAX = 20  # 2,000 users: more than any portal this app serves; stops a paging loop


@dataclass(frozen=True)
class PortalUser:
    user_id: int
    email: str
    super_admin: bool
    role_ids: tuple[str, ...] = ()


def users_scope_granted(installation: HubSpotInstallation) -> bool:
    return USERS_READ_SCOPE in (installation.scopes or [])


def _portal_user(raw) -> PortalUser:
    return PortalUser(
        user_id=int(raw.id),
        email=(raw.email or "").lower(),
        # The v3 reference example shows "false" as a string; the schema says boolean.
        super_admin=str(raw.super_admin).lower() == "true",
        role_ids=tuple(str(r) for r in (raw.role_ids or [])),
    )


def portal_user_get(
    installation: HubSpotInstallation, *, user_id: int | None = None, email: str = ""
) -> PortalUser | None:
    """One user of the portal by id or e-mail; None when HubSpot has no such user."""
    if user_id is not None:
        key, id_property = str(user_id), "USER_ID"
    else:
        key, id_property = email.strip(), "EMAIL"
    try:
        raw = HubSpotClient(installation).call(
            f"user {key}",
            "GET /settings/v3/users/{userId}",
            lambda sdk: sdk.settings.users.users_api.get_by_id,
            key,
            id_property=id_property,
        )
    except HubSpotNotFound:
        return None
    return _portal_user(raw)


def portal_users_list(installation: HubSpotInstallation) -> list[PortalUser]:
    users: list[PortalUser] = []
    after = None
    client = HubSpotClient(installation)
    for _page in range(USERS_PAGES_MAX):
        page = client.call(
            "users",
            "GET /settings/v3/users/",
            lambda sdk: sdk.settings.users.users_api.get_page,
            limit=USERS_PAGE_SIZE,
            **({"after": after} if after else {}),
        )
        users += [_portal_user(raw) for raw in page.results or []]
        after = page.paging.next.after if page.paging and page.paging.next else None
        if not after:
            break
    return users
