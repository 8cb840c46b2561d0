"""Associations of many records at once: `POST /crm/v4/associations/{from}/{to}/batch/read`
(the SDK's `crm.associations.v4.batch_api.get_page`, hubspot-api.md §6 "Associations v4";
at most 1,000 ids per request). HubSpot reports an id without associations as an error of the
batch (207, `NO_ASSOCIATIONS_FOUND`), which here simply means "none"."""

from __future__ import annotations

from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)

from integrations.hubspot.client import HubSpotClient

BATCH_READ_MAX = 1000


def associated_ids_batch(
    client: HubSpotClient, from_type: str, to_type: str, ids: list[str]
) -> dict[str, list[str]]:
    """{from id: [associated `to_type` ids]} for each of `ids` that has any. A record with more
    than one page of associations (500) keeps its first page: a deal has a handful of
    companies."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(ids), BATCH_READ_MAX):
        chunk = ids[start : start + BATCH_READ_MAX]
        answer = client.call(
            f"{from_type} associations",
            f"POST /crm/v4/associations/{from_type}/{to_type}/batch/read",
            lambda c: c.crm.associations.v4.batch_api.get_page,
            from_type,
            to_type,
            BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[PublicFetchAssociationsBatchRequest(id=str(i)) for i in chunk]
            ),
        )
        for result in answer.results or []:
            from_id = str(result._from.id)
            found.setdefault(from_id, []).extend(str(to.to_object_id) for to in result.to or [])
    return found
