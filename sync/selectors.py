"""Reads of the run engine: which runs exist for a subject and trigger, and a portal's setup."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from integrations.models import HubSpotInstallation
from sync.models import PipelineSetting, Run, SyncSettings


def runs_for_trigger(
    installation: HubSpotInstallation,
    *,
    subject_type: str,
    subject_id: str,
    kind: str,
    trigger_key: str,
) -> QuerySet[Run]:
    """Every run of one subject, kind and trigger, oldest first."""
    return Run.objects.filter(
        installation=installation,
        subject_type=subject_type,
        subject_id=str(subject_id),
        kind=kind,
        trigger_key=trigger_key,
    ).order_by("pk")


def run_trigger_runs(run: Run) -> QuerySet[Run]:
    """The runs that share `run`'s subject, kind and trigger (itself included)."""
    return runs_for_trigger(
        run.installation,
        subject_type=run.subject_type,
        subject_id=run.subject_id,
        kind=run.kind,
        trigger_key=run.trigger_key,
    )


def run_replay_chain(run: Run) -> Iterator[Run]:
    """The runs `run` replays, newest first (a Replay of a Replay of ...)."""
    seen = {run.pk}
    current = run.replay_of
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        yield current
        current = current.replay_of


def run_get_for_portal(hub_id: int, run_id: int) -> Run | None:
    return (
        Run.objects.select_related("installation")
        .filter(pk=run_id, installation__hub_id=hub_id)
        .first()
    )


def sync_settings_get(installation: HubSpotInstallation) -> SyncSettings | None:
    """The portal's sync settings, None before anyone saved them (uses a select_related cache)."""
    return getattr(installation, "sync_settings", None)


def pipeline_for_stage(
    pipelines: Iterable[PipelineSetting], stage_id: str
) -> PipelineSetting | None:
    """The added pipeline whose trigger stages include `stage_id`. Stage ids are unique within a
    portal, so the stage alone names its pipeline."""
    return next((p for p in pipelines if stage_id in p.trigger_stage_ids), None)
