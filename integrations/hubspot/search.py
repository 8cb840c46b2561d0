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

from hubspot.crm.deals import PublicObjectSearchRequest

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
