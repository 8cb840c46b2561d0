"""The Invoices & orders settings: which pipelines are added, which of their stages create which
document, and whether documents are created automatically. Each change is recorded in the
portal's settings history in the transaction that makes it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from integrations.models import HubSpotInstallation
from portals.access import PortalAccess
from portals.history import settings_changes_record
from sync.models import DOCUMENT_KINDS, PipelineSetting, RunKind, SyncSettings

SYNC_SECTION = "sync"


def sync_settings_locked(installation: HubSpotInstallation) -> SyncSettings:
    """The portal's sync settings, created on first use, locked for this transaction."""
    SyncSettings.objects.get_or_create(installation=installation)
    return SyncSettings.objects.select_for_update().get(installation=installation)


def document_type_label(kind: str) -> str:
    return _(RunKind(kind).label) if kind else ""


def _stage_labels(pipeline: dict[str, Any], stage_ids: list[str]) -> list[str]:
    labels = {stage["id"]: stage["label"] for stage in pipeline["stages"]}
    return [labels.get(stage_id, stage_id) for stage_id in stage_ids]


def auto_create_set(installation: HubSpotInstallation, access: PortalAccess, enabled: bool) -> bool:
    """Switch automatic creation on or off; returns whether it changed."""
    with transaction.atomic():
        sync_settings = sync_settings_locked(installation)
        before = sync_settings.auto_create
        if before == enabled:
            return False
        sync_settings.auto_create = enabled
        sync_settings.save(update_fields=["auto_create", "updated_at"])
        settings_changes_record(
            installation,
            access,
            SYNC_SECTION,
            [(_("Create documents automatically"), before, enabled)],
        )
    return True


def pipeline_setting_save(
    installation: HubSpotInstallation,
    access: PortalAccess,
    pipeline: dict[str, Any],
    stage_ids: list[str],
    document_type: str,
) -> PipelineSetting:
    """Add or change a pipeline. `pipeline` is HubSpot's, read live: every stage id must be one
    of its stages, and at least one is needed (a pipeline without a trigger creates nothing)."""
    known = {stage["id"] for stage in pipeline["stages"]}
    if not stage_ids:
        raise ValidationError(
            {"trigger_stage_ids": _("Pick at least one trigger stage.")}, code="required"
        )
    unknown = [stage_id for stage_id in stage_ids if stage_id not in known]
    if unknown:
        raise ValidationError(
            {
                "trigger_stage_ids": _(
                    "%(stages)s is not a stage of the pipeline %(pipeline)s."
                    " Pick stages from the list."
                )
                % {"stages": ", ".join(unknown), "pipeline": pipeline["label"]}
            },
            code="invalid_choice",
        )
    if document_type not in DOCUMENT_KINDS:
        raise ValidationError(
            {"document_type": _("Choose invoice or order.")}, code="invalid_choice"
        )
    ordered = [stage["id"] for stage in pipeline["stages"] if stage["id"] in stage_ids]
    with transaction.atomic():
        sync_settings = sync_settings_locked(installation)
        existing = sync_settings.pipelines.filter(pipeline_id=pipeline["id"]).first()
        old_stages = existing.trigger_stage_ids if existing else []
        old_type = existing.document_type if existing else ""
        setting, _created = PipelineSetting.objects.update_or_create(
            settings=sync_settings,
            pipeline_id=pipeline["id"],
            defaults={
                "pipeline_label": pipeline["label"],
                "trigger_stage_ids": ordered,
                "document_type": document_type,
            },
        )
        _record_pipeline_change(
            installation, access, pipeline, (old_stages, old_type), (ordered, document_type)
        )
    return setting


def pipeline_setting_remove(
    installation: HubSpotInstallation,
    access: PortalAccess,
    pipeline_id: str,
    pipeline: dict[str, Any] | None,
) -> str:
    """Remove a pipeline from the sync; `pipeline` is HubSpot's when it still exists there (for
    the stages' labels in the history). Returns the removed pipeline's name ("" if not added)."""
    with transaction.atomic():
        sync_settings = sync_settings_locked(installation)
        existing = sync_settings.pipelines.filter(pipeline_id=pipeline_id).first()
        if existing is None:
            return ""
        shown = pipeline or {
            "id": pipeline_id,
            "label": existing.pipeline_label or pipeline_id,
            "stages": [],
        }
        existing.delete()
        _record_pipeline_change(
            installation,
            access,
            shown,
            (existing.trigger_stage_ids, existing.document_type),
            ([], ""),
        )
    return shown["label"]


def _record_pipeline_change(
    installation: HubSpotInstallation,
    access: PortalAccess,
    pipeline: dict[str, Any],
    before: tuple[list[str], str],
    after: tuple[list[str], str],
) -> None:
    name = pipeline["label"]
    settings_changes_record(
        installation,
        access,
        SYNC_SECTION,
        [
            (
                _("Pipeline %(pipeline)s: trigger stages") % {"pipeline": name},
                _stage_labels(pipeline, before[0]),
                _stage_labels(pipeline, after[0]),
            ),
            (
                _("Pipeline %(pipeline)s: document") % {"pipeline": name},
                document_type_label(before[1]),
                document_type_label(after[1]),
            ),
        ],
    )
