"""Every settings change is recorded (who, when, old → new) in the transaction that makes it."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from integrations.models import HubSpotInstallation
from portals.access import PortalAccess
from portals.models import SettingsChange


def shown(value: Any) -> str:
    """A value as the History tab shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def settings_changes_record(
    installation: HubSpotInstallation,
    access: PortalAccess,
    section: str,
    changes: list[tuple[str, Any, Any]],
    *,
    even_unchanged: bool = False,
) -> list[SettingsChange]:
    """Record (setting label, old, new) triples whose values differ (all of them with
    `even_unchanged`: an action such as a reconnect is news though it reads the same); returns
    the rows written."""
    rows = [
        SettingsChange(
            installation=installation,
            user_id=access.user_id,
            email=access.email,
            section=section,
            setting=str(label),
            old_value=shown(old),
            new_value=shown(new),
        )
        for label, old, new in changes
        if even_unchanged or shown(old) != shown(new)
    ]
    return SettingsChange.objects.bulk_create(rows)


def model_update_recorded(
    instance: models.Model,
    values: dict[str, Any],
    *,
    installation: HubSpotInstallation,
    access: PortalAccess,
    section: str,
) -> list[SettingsChange]:
    """Set `values` on `instance`, save the changed fields and record each change, labelled with
    the field's verbose name and shown by its choice label where it has choices."""
    changes: list[tuple[str, Any, Any]] = []
    changed_fields = []
    for name, new in values.items():
        field = instance._meta.get_field(name)
        old = getattr(instance, name)
        if old == new:
            continue
        choices = dict(field.flatchoices) if field.choices else {}
        changes.append((field.verbose_name, choices.get(old, old), choices.get(new, new)))
        setattr(instance, name, new)
        changed_fields.append(name)
    with transaction.atomic():
        if changed_fields:
            instance.save()
        return settings_changes_record(installation, access, section, changes)
