"""What connecting and disconnecting a Fortnox company does to its token holder, for a portal's
connection (integrations.models.FortnoxConnection) and the vendor's own
(billing.models.VendorFortnoxConnection) alike: both are TokenHolders with the company's name,
organisation number and DatabaseNumber, a `Status` with "disconnected", and `disconnected_at`."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from integrations.fortnox import oauth
from integrations.fortnox.client import FortnoxClient
from integrations.fortnox.errors import FortnoxError
from integrations.models import TokenHolder

logger = logging.getLogger(__name__)

DISCONNECTED = "disconnected"


def company_details_read(connection: TokenHolder, client: FortnoxClient) -> bool:
    """Read the connected company's name, organisation number and DatabaseNumber (Fortnox's
    tenant: the rate-limit key and the documents' links) onto `connection` and save it. When
    Fortnox does not answer, the connection stays (its tokens work) with the problem recorded;
    returns False then."""
    try:
        company = client.company_information()
    except FortnoxError as exc:
        connection.record_problem(
            f"Connected, but the company details could not be read: {exc.message}", exc.fix
        )
        connection.save()
        return False
    connection.company_name = company.get("CompanyName") or ""
    connection.organisation_number = company.get("OrganizationNumber") or ""
    connection.database_number = str(company.get("DatabaseNumber") or "")
    connection.save()
    return True


def tokens_forget(connection: TokenHolder, *, reason: str, fix: str) -> bool:
    """Revoke and forget the connection's tokens; the row stays as history, disconnected, with
    the reason and `fix` as its problem. Returns whether Fortnox confirmed the revocation (the
    tokens are forgotten either way)."""
    revoked = bool(connection.refresh_token) and oauth.revoke(connection.refresh_token)
    with transaction.atomic():
        locked = type(connection).objects.select_for_update().get(pk=connection.pk)
        locked.status = DISCONNECTED
        locked.access_token = ""
        locked.refresh_token = ""
        locked.access_token_expires_at = None
        locked.disconnected_at = timezone.now()
        locked.record_problem(f"Disconnected ({reason}).", fix)
        locked.save()
    return revoked
