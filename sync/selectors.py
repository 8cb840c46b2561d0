"""Reads of the run engine: which runs exist for a subject and trigger, and a portal's setup."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from integrations.models import HubSpotInstallation
from sync.models import PipelineSetting, Run, SubjectType, SyncSettings


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


def runs_for_portal(
    installation: HubSpotInstallation, status: str = "", kind: str = ""
) -> QuerySet[Run]:
    """The portal's runs, newest first; only those of `status` and of `kind` when given."""
    runs = Run.objects.filter(installation=installation)
    if status:
        runs = runs.filter(status=status)
    if kind:
        runs = runs.filter(kind=kind)
    return runs.order_by("-created_at", "-pk")


def _record_name(subject_type: str, properties: object) -> str:
    """A contact's, company's or product's name, as HubSpot shows it, from the properties a run
    read (Run.data_read["record"])."""
    if not isinstance(properties, dict):
        return ""
    if subject_type == SubjectType.CONTACT:
        full = " ".join(
            str(properties.get(p) or "").strip() for p in ("firstname", "lastname")
        ).strip()
        return full or str(properties.get("email") or "")
    return str(properties.get("name") or "")


def run_record_names(runs: Iterable[Run]) -> dict[int, str]:
    """{run id: the name of its HubSpot record} from what the runs read, without asking HubSpot:
    the deal's name for deal runs (run_deal_names); for a contact, company or product, the name
    the run read, else the customer's (or the one article's) name it synced, else what another
    run of the same record read. A name scrubbed for privacy (sync/privacy.py) is gone: no entry."""
    runs = list(runs)
    names = run_deal_names([r for r in runs if r.subject_type == SubjectType.DEAL])
    missing: dict[tuple[int, str, str], list[int]] = {}
    for run in runs:
        if run.subject_type == SubjectType.DEAL:
            continue
        data = run.data_read or {}
        outcome = data.get("outcome") or {}
        articles = outcome.get("articles") or []
        name = (
            _record_name(run.subject_type, data.get("record"))
            or str(outcome.get("customer_name") or "")
            # A product's sync names its one article after the product.
            or (str(articles[0].get("name") or "") if len(articles) == 1 else "")
        )
        if name:
            names[run.pk] = name
        else:
            key = (run.installation_id, run.subject_type, run.subject_id)
            missing.setdefault(key, []).append(run.pk)
    if missing:
        found = (
            Run.objects.filter(
                installation_id__in={key[0] for key in missing},
                subject_type__in={key[1] for key in missing},
                subject_id__in={key[2] for key in missing},
                data_read__has_key="record",
            )
            .order_by("-pk")
            .values_list("installation_id", "subject_type", "subject_id", "data_read")
        )
        for installation_id, subject_type, subject_id, data in found:
            name = _record_name(subject_type, (data or {}).get("record"))
            key = (installation_id, subject_type, subject_id)
            if name and key in missing:
                for run_id in missing.pop(key):
                    names[run_id] = name
    return names


def run_deal_names(runs: Iterable[Run]) -> dict[int, str]:
    """{run id: the deal's name} from what the runs read (Run.data_read), without asking
    HubSpot: a run that read nothing (it failed earlier) takes the name another run of the same
    deal read. A name scrubbed for privacy (sync/privacy.py) is gone: no entry."""
    runs = list(runs)
    names: dict[int, str] = {}
    missing: dict[tuple[int, str], list[int]] = {}
    for run in runs:
        name = str(((run.data_read or {}).get("deal") or {}).get("dealname") or "")
        if name:
            names[run.pk] = name
        else:
            missing.setdefault((run.installation_id, run.subject_id), []).append(run.pk)
    if missing:
        found = (
            Run.objects.filter(
                installation_id__in={key[0] for key in missing},
                subject_id__in={key[1] for key in missing},
                data_read__deal__dealname__isnull=False,
            )
            .order_by("-pk")
            .values_list("installation_id", "subject_id", "data_read__deal__dealname")
        )
        for installation_id, subject_id, name in found:
            for run_id in missing.pop((installation_id, subject_id), []):
                if name:
                    names[run_id] = str(name)
    return names


def run_document_elsewhere(run: Run) -> tuple[Run | None, bool]:
    """Whether a run other than `run` already created the document `run` was for: (that run,
    whether Replay would create nothing because of it). Replay creates nothing after a run of
    the same trigger succeeded (sync/replay.py); a later run of another trigger (a workflow
    action, say) leaves Replay free to create a second document, which the user must know."""
    same_trigger = (
        run_trigger_runs(run).filter(status=Run.Status.SUCCEEDED).exclude(pk=run.pk).first()
    )
    if same_trigger is not None:
        return same_trigger, True
    later = (
        Run.objects.filter(
            installation_id=run.installation_id,
            subject_type=run.subject_type,
            subject_id=run.subject_id,
            kind=run.kind,
            status=Run.Status.SUCCEEDED,
            pk__gt=run.pk,
        )
        .order_by("pk")
        .first()
    )
    return later, False
