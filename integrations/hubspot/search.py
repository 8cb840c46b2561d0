"""CRM search through the SDK (POST /crm/v3/objects/{type}/search, hubspot-api.md §6).

Search has its own rate limit (5 requests/s per token, no rate headers on its answers, §7); a
429 from it is ridden out by the client's policy like any other. Its index lags a few seconds
behind writes (§10), so a deal created a moment ago may not be found yet.

`query` is HubSpot's free-text search over an object's default searchable properties; for deals
`dealname`, `pipeline`, `dealstage`, `description` and `dealtype` (HubSpot's CRM search guide,
"Search default searchable properties", as quoted by several public integrations; not in
hubspot-api.md). Whether it matches inside a word or only whole words / word starts is not
settled, so callers pass the words a user typed and show what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubspot.crm.deals import Filter, FilterGroup, PublicObjectSearchRequest

from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import CrmRecord

SEARCH_LIMIT_MAX = 200  # records per search page (hubspot-api.md §6)


def deals_search_by_text(
    client: HubSpotClient, text: str, properties: list[str], limit: int = 20
) -> list[CrmRecord]:
    """The first `limit` deals HubSpot's free-text search finds for `text`."""
    request = PublicObjectSearchRequest(
        query=text.strip(),
        limit=max(1, min(limit, SEARCH_LIMIT_MAX)),
        properties=properties,
    )
    page = client.call(
        "deals",
        "POST /crm/v3/objects/deals/search",
        lambda c: c.crm.deals.search_api.do_search,
        public_object_search_request=request,
    )
    return [CrmRecord(str(obj.id), dict(obj.properties or {})) for obj in page.results or []]


# -- paging a whole result set by id ranges -----------------------------------------------------

#: Search answers at most 10,000 results per query (`after` + `limit` beyond it is refused:
#: hubspot-api.md §6 and HubSpot's CRM search guide, "Limitations"). A whole result set is paged
#: by id ranges instead: each page is a new query for `hs_object_id > last id seen`, sorted by
#: id, so no query ever goes past its first page and the last id is a cursor that survives a
#: crash (and a page size change).
SEARCH_RESULTS_MAX = 10_000


@dataclass(frozen=True)
class SearchFilter:
    """One filter of HubSpot's search (`propertyName`, `operator`, `value` or `values`)."""

    property_name: str
    operator: str
    value: str | None = None
    values: tuple[str, ...] = ()

    def as_sdk(self) -> Filter:
        return Filter(
            property_name=self.property_name,
            operator=self.operator,
            value=self.value,
            values=list(self.values) or None,
        )


@dataclass(frozen=True)
class IdsPage:
    ids: list[str]
    total: int  # how many records the query matches from the start id on (HubSpot's `total`)
    last_id: str | None  # the cursor for the next page; None when this was the last page


def records_search_ids(
    client: HubSpotClient,
    object_type: str,
    filters: list[SearchFilter],
    *,
    after_id: str | None = None,
    limit: int = SEARCH_LIMIT_MAX,
) -> IdsPage:
    """One page of the ids of `object_type` records matching every filter, in ascending id
    order, after `after_id` (None: from the start)."""
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    sdk_filters = [f.as_sdk() for f in filters]
    if after_id:
        sdk_filters.append(SearchFilter("hs_object_id", "GT", str(after_id)).as_sdk())
    request = PublicObjectSearchRequest(
        limit=limit,
        properties=["hs_object_id"],
        sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        filter_groups=[FilterGroup(filters=sdk_filters)] if sdk_filters else [],
    )
    page = client.call(
        object_type,
        f"POST /crm/v3/objects/{object_type}/search",
        lambda c: getattr(c.crm, object_type).search_api.do_search,
        public_object_search_request=request,
    )
    ids = [str(obj.id) for obj in page.results or []]
    more = bool(page.paging and page.paging.next) and len(ids) == limit
    return IdsPage(ids=ids, total=int(page.total or 0), last_id=ids[-1] if more else None)
