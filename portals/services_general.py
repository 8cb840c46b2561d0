"""The General settings: the language of notes and documents, and whether a failed run also
creates a HubSpot task for the deal owner. Recorded in the settings history with the change."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from integrations.models import HubSpotInstallation
from portals.access import PortalAccess
from portals.history import settings_changes_record
from portals.services_sync import sync_settings_locked
from sync.models import SyncSettings

GENERAL_SECTION = "general"


def general_settings_save(
    installation: HubSpotInstallation, access: PortalAccess, *, language: str, failure_task: bool
) -> int:
    """Save both settings; returns how many changed."""
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
        sync_settings.language = language
        sync_settings.failure_task = failure_task
        sync_settings.save(update_fields=["language", "failure_task", "updated_at"])
        return len(settings_changes_record(installation, access, GENERAL_SECTION, changes))
