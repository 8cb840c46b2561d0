"""Celery entry points of portals: thin wrappers over services, taking ids only."""

from __future__ import annotations

from celery import shared_task

from integrations.errors import IntegrationError
from portals.cards import card_refresh_execute
from portals.services import hubspot_properties_create


@shared_task(bind=True, max_retries=5, acks_late=True)
def hubspot_properties_create_task(self, installation_id: int) -> None:
    try:
        hubspot_properties_create(installation_id)
    except IntegrationError as exc:
        if exc.transient:
            raise self.retry(countdown=30 * (self.request.retries + 1)) from exc
        raise


@shared_task(acks_late=True)
def card_refresh_task(action_id: int) -> None:
    """Perform Sync from an app card (portals/cards.py): ends the press with what happened."""
    card_refresh_execute(action_id)
