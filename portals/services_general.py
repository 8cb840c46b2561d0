"""The General settings: the language of notes and documents, whether a failed run also
creates a HubSpot task for the deal owner, who may use the app card's buttons and what its
Create now makes. Recorded in the settings history with the change."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from integrations.models import HubSpotInstallation
from portals.access import PortalAccess
from portals.history import settings_changes_record
from portals.services_sync import sync_settings_locked
from sync.models import RunKind, SyncSettings

GENERAL_SECTION = "general"


def card_actions_words() -> dict[str, str]:
    return {
        SyncSettings.CardActions.ALLOW_LIST: _(
            "Super admins and the users allowed on the Users tab"
        ),
        SyncSettings.CardActions.EVERYONE: _("Every user who can open the record in HubSpot"),
    }


def card_document_words() -> dict[str, str]:
    return {RunKind.INVOICE: _("An invoice"), RunKind.ORDER: _("An order")}


def general_settings_save(
    installation: HubSpotInstallation,
    access: PortalAccess,
    *,
    language: str,
    failure_task: bool,
    card_actions: str | None = None,
    card_document_type: str | None = None,
) -> int:
    """Save the settings; returns how many changed. The card settings stay as they are when
    not given."""
    languages = dict(SyncSettings.Language.choices)
    with transaction.atomic():
        sync_settings = sync_settings_locked(installation)
        changes = [
            (
                _("Language of notes and documents"),
                languages.get(sync_settings.language, sync_settings.language),
                languages[language],
            ),
            (
                _("On failure, also create a task for the deal owner"),
                sync_settings.failure_task,
                failure_task,
            ),
        ]
        card_actions = card_actions or sync_settings.card_actions
        card_document_type = card_document_type or sync_settings.card_document_type
        actions_words, document_words = card_actions_words(), card_document_words()
        changes += [
            (
                _("Who may use the app card's buttons"),
                actions_words.get(sync_settings.card_actions, sync_settings.card_actions),
                actions_words[card_actions],
            ),
            (
                _("Create now on the deal card makes"),
                document_words.get(sync_settings.card_document_type),
                document_words[card_document_type],
            ),
        ]
        sync_settings.language = language
        sync_settings.failure_task = failure_task
        sync_settings.card_actions = card_actions
        sync_settings.card_document_type = card_document_type
        sync_settings.save(
            update_fields=[
                "language",
                "failure_task",
                "card_actions",
                "card_document_type",
                "updated_at",
            ]
        )
        return len(settings_changes_record(installation, access, GENERAL_SECTION, changes))
