"""The portal's users (settings users API, hubspot-api.md third addendum §2) and who may install.

- GET /settings/v3/users/{userId} (and the dated /settings/users/2026-03/{userId}), with
  `?idProperty=EMAIL` to look a user up by e-mail; GET /settings/v3/users (and dated) lists them
  with `limit`/`after`. Scope `settings.users.read` (or `.write`). A user answers `id` (a string),
  `email`, `firstName`, `lastName`, `superAdmin`, `roleIds`, `roleId`, `primaryTeamId`,
  `secondaryTeamIds`: HubSpot's public user, nothing about Marketplace Access.
- Each sandbox user carries `superAdmin` and `marketplaceAccess`. Only a super admin or a user
  with Marketplace Access may complete the OAuth consent (oauth.authorize refuses the others):
  "Users installing apps … must either be a Super Admin or have HubSpot Marketplace Access
  permissions" (hubspot-api.md third addendum §1).
- Admin: POST /_sandbox/portals/{hub}/users adds a user (`email`, optional `id`,
  `super_admin`, `marketplace_access`, `first_name`, `last_name`).
"""

from __future__ import annotations

from typing import Any

from sandbox.hubspot.http import not_found, validation_error
from sandbox.hubspot.routing import Ctx, Route
from sandbox.hubspot.store import Portal

USERS_SCOPES = ("settings.users.read", "settings.users.write")
PAGE_MAX = 100


def may_install(user: dict[str, Any]) -> bool:
    return bool(user.get("superAdmin") or user.get("marketplaceAccess"))


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    super_admin = bool(user.get("superAdmin"))
    role_ids = [] if super_admin else [str(r) for r in user.get("roleIds", [])]
    body: dict[str, Any] = {
        "id": str(user["id"]),
        "email": user["email"],
        "firstName": user.get("firstName", ""),
        "lastName": user.get("lastName", ""),
        "superAdmin": super_admin,
        "roleIds": role_ids,
        "secondaryTeamIds": [],
    }
    if role_ids:
        body["roleId"] = role_ids[0]
    return body


def _find(portal: Portal, key: str, id_property: str) -> dict[str, Any] | None:
    for user in portal.users:
        if id_property == "EMAIL":
            # HubSpot does not say whether the e-mail match is case-sensitive: the sandbox
            # compares case-insensitively, as e-mail addresses are in practice.
            if user["email"].lower() == key.strip().lower():
                return user
        elif str(user["id"]) == key:
            return user
    return None


def user_get(ctx: Ctx, user_id: str):
    ctx.require_scopes(*USERS_SCOPES)
    id_property = (ctx.request.args.get("idProperty") or "USER_ID").upper()
    if id_property not in ("USER_ID", "EMAIL"):
        raise validation_error(f"idProperty must be USER_ID or EMAIL, not {id_property}.")
    with ctx.sb.store.lock:
        user = _find(ctx.portal, user_id, id_property)
        if user is None:
            raise not_found(f"No user {user_id} in account {ctx.portal.hub_id}.")
        return public_user(user)


def users_list(ctx: Ctx):
    ctx.require_scopes(*USERS_SCOPES)
    try:
        limit = min(int(ctx.request.args.get("limit") or PAGE_MAX), PAGE_MAX)
        start = int(ctx.request.args.get("after") or 0)
    except ValueError:
        raise validation_error("limit and after must be numbers.") from None
    with ctx.sb.store.lock:
        users = ctx.portal.users
        page = [public_user(u) for u in users[start : start + limit]]
        body: dict[str, Any] = {"results": page}
        if start + limit < len(users):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return body


def user_add(ctx: Ctx, hub: int):
    body = ctx.json({}) or {}
    email = str(body.get("email") or "").strip()
    if "@" not in email:
        raise validation_error("email is required")
    with ctx.sb.store.lock:
        portal = ctx.sb.store.portal(hub)
        if portal is None:
            raise not_found(f"There is no portal {hub} in the sandbox.")
        if any(u["email"].lower() == email.lower() for u in portal.users):
            raise validation_error(f"{email} is already a user of portal {hub}")
        user_id = int(body.get("id") or max(int(u["id"]) for u in portal.users) + 1)
        user = {
            "id": user_id,
            "email": email,
            "firstName": body.get("first_name", ""),
            "lastName": body.get("last_name", ""),
            "superAdmin": bool(body.get("super_admin", False)),
            "marketplaceAccess": bool(body.get("marketplace_access", False)),
            "roleIds": [str(r) for r in body.get("role_ids", [])],
        }
        portal.users.append(user)
        return user, 201


def routes() -> list[Route]:
    return [
        Route("/settings/v3/users", ["GET"], users_list),
        Route("/settings/v3/users/<user_id>", ["GET"], user_get),
        Route("/settings/users/2026-03", ["GET"], users_list),
        Route("/settings/users/2026-03/<user_id>", ["GET"], user_get),
        Route("/_sandbox/portals/<int:hub>/users", ["POST"], user_add, "admin"),
    ]
