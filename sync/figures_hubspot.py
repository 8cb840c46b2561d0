"""What the figures write to HubSpot (sync/figures.py): the customer's figures on every contact
and company mapped to it, a deal's document status and balance, and the note on a deal whose
document was cancelled in Fortnox."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import record_update
from integrations.hubspot.errors import HubSpotNotFound, HubSpotValidationError
from integrations.hubspot.properties import hubspot_properties_ensure
from integrations.models import HubSpotInstallation
from notes.services import cancelled_marker, document_url
from sync.deliveries import deliveries_create, note_spec
from sync.finish import portal_language
from sync.models import CustomerMapping, FortnoxCustomerFigures, FortnoxDocument, Run

logger = logging.getLogger(__name__)

MISSING_PROPERTY = "PROPERTY_DOESNT_EXIST"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def properties_write(
    client: HubSpotClient, object_type: str, object_id: str, properties: dict[str, Any]
) -> None:
    """Set the app's properties on a record. An install made before a property existed (the
    deal's document status came with the app cards) gets the missing properties created once,
    then the write is repeated."""
    try:
        record_update(client, object_type, object_id, properties)
    except HubSpotValidationError as exc:
        if MISSING_PROPERTY not in f"{exc.service_message} {exc.message}":
            raise
        logger.info(
            "creating the app's missing HubSpot properties",
            extra={"object_type": object_type, "object_id": object_id},
        )
        hubspot_properties_ensure(client)
        record_update(client, object_type, object_id, properties)


def customer_properties(row: FortnoxCustomerFigures) -> dict[str, str]:
    synced = row.synced_at
    return {
        "fortnox_customer_number": row.customer_number,
        "fortnox_total_invoiced": _amount(row.total_invoiced),
        "fortnox_unpaid_balance": _amount(row.balance),
        "fortnox_overdue_amount": _amount(row.overdue),
        "fortnox_financials_synced_at": str(int(synced.timestamp() * 1000)) if synced else "",
    }


def mapped_records(
    installation: HubSpotInstallation, tenant: str, customer_number: str
) -> list[tuple[str, str]]:
    """Every (object type, id) mapped to the Fortnox customer in the company."""
    return list(
        CustomerMapping.objects.filter(
            installation=installation,
            fortnox_database_number=tenant,
            fortnox_customer_number=customer_number,
        )
        .order_by("hubspot_object_type", "hubspot_object_id")
        .values_list("hubspot_object_type", "hubspot_object_id")
    )


def customer_properties_write(
    client: HubSpotClient, installation: HubSpotInstallation, row: FortnoxCustomerFigures
) -> int:
    """The figures on every contact and company mapped to the customer; how many were written.
    A record deleted in HubSpot since is skipped (its mapping stays for the customer sync)."""
    written = 0
    properties = customer_properties(row)
    for object_type, object_id in mapped_records(
        installation, row.fortnox_database_number, row.customer_number
    ):
        try:
            properties_write(client, object_type, object_id, properties)
        except HubSpotNotFound:
            logger.info(
                "record mapped to a Fortnox customer is gone from HubSpot",
                extra={"object_type": object_type, "object_id": object_id},
            )
            continue
        written += 1
    return written


def deal_properties_write(
    client: HubSpotClient, deal_id: str, status: str, balance: Decimal
) -> None:
    properties_write(
        client,
        "deals",
        deal_id,
        {"fortnox_document_status": status, "fortnox_document_balance": _amount(balance)},
    )


def cancelled_notes(installation: HubSpotInstallation, docs: list[FortnoxDocument]) -> int:
    """A note on the deal of each document the app made that is newly seen cancelled, in the
    portal's language, saying that "Create again" on the deal's Fortnox card makes a new one.
    Sent as a delivery (retried, never twice: its marker names the run and the cancellation)."""
    if not docs:
        return 0
    language = portal_language(installation)
    specs = []
    runs = []
    for doc in docs:
        run = (
            Run.objects.filter(
                installation=installation,
                kind=doc.kind,
                status=Run.Status.SUCCEEDED,
                fortnox_document_number=doc.document_number,
            )
            .order_by("-pk")
            .first()
        )
        if run is None:
            continue
        specs.append(
            note_spec(
                run.subject_type,
                run.subject_id,
                template="cancelled",
                data={
                    "document_label": doc.kind,
                    "document_number": doc.document_number,
                    "document_url": document_url(
                        doc.fortnox_database_number, doc.kind, doc.document_number
                    ),
                    "run_id": run.pk,
                    "trigger_label": "",
                    "language": language,
                },
                marker=cancelled_marker(run.pk, language),
            )
        )
        runs.append(run)
    for spec, run in zip(specs, runs, strict=True):
        deliveries_create(installation, [spec], run=run)
    return len(specs)
