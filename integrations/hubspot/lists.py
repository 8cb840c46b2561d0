"""HubSpot lists (now called segments) through the SDK's Lists API v3 (`client.crm.lists`).

- `POST /crm/v3/lists/search` (`lists_api.do_search`): the portal's lists, paged by `offset`
  while `hasMore`; an empty `query` pages through all of them. hubspot-api-client 12's request
  model has no `objectTypeId`, so the lists of other objects are dropped here (companies are
  "0-2"). `additionalProperties: ["hs_list_size"]` asks for each list's size, which HubSpot
  calls approximate: the bulk sync counts members itself.
- `GET /crm/v3/lists/{listId}` (`lists_api.get_by_id`): one list's name and object type.
- `GET /crm/v3/lists/{listId}/memberships` (`memberships_api.get_page`): the members' record
  ids in ascending order, `limit` at most 250, the next page through `paging.next.after`.
Sources: developers.hubspot.com/docs/api-reference/crm-lists-v3 (search, get by id,
memberships), the SDK's docstrings (the 250 limit and the ascending order).

All three need the scope `crm.lists.read`, which the app asks for as OPTIONAL (a new required
scope would break every existing install until re-authorised): callers check
`lists_scope_granted` first and offer to authorise the app again.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubspot.crm.lists import ListSearchRequest

from integrations.hubspot.client import HubSpotClient
from integrations.models import HubSpotInstallation

LISTS_READ_SCOPE = "crm.lists.read"
COMPANIES_TYPE_ID = "0-2"
PRODUCTS_TYPE_ID = "0-7"
MEMBERSHIPS_LIMIT_MAX = 250  # the SDK's docstring: "The maximum `limit` is 250"
SEARCH_COUNT = 100  # lists per search page
SEARCH_PAGES_MAX = 50  # 5,000 lists: more than a portal keeps; stops a paging loop


@dataclass(frozen=True)
class HubSpotList:
    list_id: str
    name: str
    object_type_id: str
    size: int | None  # HubSpot's approximate size, None when it did not say
    processing_type: str = ""


@dataclass(frozen=True)
class MembershipsPage:
    record_ids: list[str]
    after: str | None  # the next page's token; None on the last page


def lists_scope_granted(installation: HubSpotInstallation) -> bool:
    return LISTS_READ_SCOPE in (installation.scopes or [])


def _size(raw) -> int | None:
    value = (getattr(raw, "additional_properties", None) or {}).get("hs_list_size")
    if value is None:
        value = getattr(raw, "size", None)
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _hubspot_list(raw) -> HubSpotList:
    return HubSpotList(
        list_id=str(raw.list_id),
        name=str(raw.name or ""),
        object_type_id=str(raw.object_type_id or ""),
        size=_size(raw),
        processing_type=str(getattr(raw, "processing_type", "") or ""),
    )


def lists_search(client: HubSpotClient, object_type_id: str, query: str = "") -> list[HubSpotList]:
    """The portal's lists of one object type ("0-2": companies) whose name matches `query`
    (all of them for ""), by name."""
    found: list[HubSpotList] = []
    offset = 0
    for _page in range(SEARCH_PAGES_MAX):
        answer = client.call(
            "lists",
            "POST /crm/v3/lists/search",
            lambda c: c.crm.lists.lists_api.do_search,
            list_search_request=ListSearchRequest(
                query=query.strip(),
                offset=offset,
                count=SEARCH_COUNT,
                additional_properties=["hs_list_size"],
            ),
        )
        lists = answer.lists or []
        found.extend(
            _hubspot_list(raw) for raw in lists if str(raw.object_type_id) == object_type_id
        )
        if not answer.has_more or not lists:
            break
        offset = int(answer.offset or offset + len(lists))
    return sorted(found, key=lambda item: item.name.lower())


def list_get(client: HubSpotClient, list_id: str) -> HubSpotList:
    """One list; HubSpotNotFound when the portal has no such list."""
    answer = client.call(
        f"list {list_id}",
        "GET /crm/v3/lists/{listId}",
        lambda c: c.crm.lists.lists_api.get_by_id,
        str(list_id),
    )
    return _hubspot_list(answer.list)


def list_memberships_page(
    client: HubSpotClient, list_id: str, after: str | None, limit: int = MEMBERSHIPS_LIMIT_MAX
) -> MembershipsPage:
    """One page of the list's members (record ids, ascending), from `after` (None: the start)."""
    kwargs = {"limit": max(1, min(limit, MEMBERSHIPS_LIMIT_MAX))}
    if after:
        kwargs["after"] = after
    answer = client.call(
        f"list {list_id}",
        "GET /crm/v3/lists/{listId}/memberships",
        lambda c: c.crm.lists.memberships_api.get_page,
        str(list_id),
        **kwargs,
    )
    ids = [str(item.record_id) for item in answer.results or []]
    paging = answer.paging
    next_after = paging.next.after if paging and paging.next and paging.next.after else None
    return MembershipsPage(record_ids=ids, after=next_after if ids else None)
