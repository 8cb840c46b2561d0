"""Creating runs: the one path every trigger takes (stage webhooks, workflow actions, Replay)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from integrations.models import HubSpotInstallation
from sync.dispatch import runs_send
from sync.models import Run


def run_create(
    installation: HubSpotInstallation,
    *,
    subject_type: str,
    subject_id: str,
    kind: str,
    trigger: str,
    trigger_key: str,
    replay_of: Run | None = None,
) -> Run | None:
    """A queued run, sent to a worker once the caller's transaction commits; None when a live
    run (queued, running or succeeded) already covers this subject, kind and trigger: the
    database's unique constraint decides, so two webhook deliveries racing give one run."""
    try:
        with transaction.atomic():
            run = Run.objects.create(
                installation=installation,
                subject_type=subject_type,
                subject_id=str(subject_id),
                kind=kind,
                trigger=trigger,
                trigger_key=trigger_key,
                replay_of=replay_of,
            )
    except IntegrityError:
        return None
    runs_send([run.pk])
    return run
