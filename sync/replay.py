"""Replay: run a failed run again with the subject's current data, never twice for one trigger."""

from __future__ import annotations

from django.utils.translation import gettext as _

from sync.models import Run
from sync.runs import run_create
from sync.selectors import run_trigger_runs


def run_replay(run: Run) -> tuple[Run | None, str]:
    """(the new run or None, what happened, in words for the user, in the page's language)."""
    same_trigger = run_trigger_runs(run)
    done = same_trigger.filter(status=Run.Status.SUCCEEDED).first()
    if done is not None:
        return None, _(
            "Nothing to do: Fortnox %(document)s %(number)s was already created for this deal "
            "(run %(run)s). No new document was created."
        ) % {
            "document": _("invoice") if done.kind == "invoice" else _("order"),
            "number": done.fortnox_document_number,
            "run": done.pk,
        }
    live = same_trigger.filter(status__in=[Run.Status.QUEUED, Run.Status.RUNNING]).first()
    if live is not None:
        return None, _(
            "Run %(run)s for this deal is already under way; check the deal's notes."
        ) % {"run": live.pk}
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
        return None, _("Another run for this deal started at the same moment; check the notes.")
    return new, _(
        "Replay started (run %(run)s). The result will appear as a note on the deal in a few "
        "moments."
    ) % {"run": new.pk}
