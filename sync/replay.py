"""Replay: run a failed run again with the subject's current data, never twice for one trigger.

A document run creates its invoice or order at most once per trigger. A customer or product sync
reads its record again and creates or updates the Fortnox customer or articles; the customer
service matches before it creates (sync/customers.py), so a Replay never makes a second customer
either. Its result is a note on the record (none for a product: products take no notes in
HubSpot), and the Runs tab row.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from sync.finish import NOTE_SUBJECTS
from sync.models import SYNC_KINDS, Run, RunKind
from sync.run_words import the_record
from sync.runs import run_create
from sync.selectors import run_trigger_runs


def run_replay(run: Run) -> tuple[Run | None, str]:
    """(the new run or None, what happened, in words for the user, in the page's language)."""
    same_trigger = run_trigger_runs(run)
    done = same_trigger.filter(status=Run.Status.SUCCEEDED).first()
    if done is not None:
        return None, _already_done_text(done)
    live = same_trigger.filter(status__in=[Run.Status.QUEUED, Run.Status.RUNNING]).first()
    if live is not None:
        if run.kind in SYNC_KINDS:
            return None, _(
                "Run %(run)s for %(record)s is already under way; its result will show on the "
                "Runs tab."
            ) % {"run": live.pk, "record": the_record(run)}
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
        if run.kind in SYNC_KINDS:
            return None, _(
                "Another run for %(record)s started at the same moment; check the Runs tab."
            ) % {"record": the_record(run)}
        return None, _("Another run for this deal started at the same moment; check the notes.")
    if run.kind in SYNC_KINDS:
        return new, _sync_started_text(new)
    return new, _(
        "Replay started (run %(run)s). The result will appear as a note on the deal in a few "
        "moments."
    ) % {"run": new.pk}


def _already_done_text(done: Run) -> str:
    if done.kind == RunKind.CUSTOMER_SYNC:
        return _(
            "Nothing to do: run %(run)s already synced %(record)s to Fortnox customer "
            "%(number)s for this trigger. No new sync was started."
        ) % {"run": done.pk, "record": the_record(done), "number": done.fortnox_customer_number}
    if done.kind == RunKind.PRODUCT_SYNC:
        return _(
            "Nothing to do: run %(run)s already synced %(record)s to Fortnox for this trigger. "
            "No new sync was started."
        ) % {"run": done.pk, "record": the_record(done)}
    return _(
        "Nothing to do: Fortnox %(document)s %(number)s was already created for this deal "
        "(run %(run)s). No new document was created."
    ) % {
        "document": _("invoice") if done.kind == "invoice" else _("order"),
        "number": done.fortnox_document_number,
        "run": done.pk,
    }


def _sync_started_text(new: Run) -> str:
    words = {"run": new.pk, "record": the_record(new)}
    if new.kind == RunKind.CUSTOMER_SYNC:
        started = _(
            "Replay started (run %(run)s): it reads %(record)s again as it is now and creates "
            "its Fortnox customer, or updates it with what changed."
        )
    else:
        started = _(
            "Replay started (run %(run)s): it reads %(record)s again as it is now and creates "
            "or updates the Fortnox articles."
        )
    if new.subject_type in NOTE_SUBJECTS:
        where = _("The result will appear as a note on %(record)s in a few moments.")
    else:
        where = _("The result will appear on the Runs tab of the app's settings in a few moments.")
    return f"{started % words} {where % words}"
