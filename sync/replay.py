"""Replay: run a failed run again with the subject's current data, never twice for one trigger."""

from __future__ import annotations

from sync.models import Run
from sync.runs import run_create
from sync.selectors import run_trigger_runs


def run_replay(run: Run) -> tuple[Run | None, str]:
    """(the new run or None, what happened, in words for the user)."""
    same_trigger = run_trigger_runs(run)
    done = same_trigger.filter(status=Run.Status.SUCCEEDED).first()
    if done is not None:
        return None, (
            f"Nothing to do: Fortnox {done.get_kind_display().lower()} "
            f"{done.fortnox_document_number} was already created for this deal "
            f"(run {done.pk}). No new document was created."
        )
    live = same_trigger.filter(status__in=[Run.Status.QUEUED, Run.Status.RUNNING]).first()
    if live is not None:
        return None, f"Run {live.pk} for this deal is already under way; check the deal's notes."
    new = run_create(
        run.installation,
        subject_type=run.subject_type,
        subject_id=run.subject_id,
        kind=run.kind,
        trigger=Run.Trigger.REPLAY,
        trigger_key=run.trigger_key,
        replay_of=run,
    )
    if new is None:
        return None, "Another run for this deal started at the same moment; check the notes."
    return new, (
        f"Replay started (run {new.pk}). The result will appear as a note on the deal "
        "in a few moments."
    )
