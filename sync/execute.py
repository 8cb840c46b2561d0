"""Executing one attempt of a run: take a slot of its portal (sync/dispatch.py), run the steps of
its kind, and end it with the outcome a user can act on.

`run_execute` is safe to call twice for the same run: the attempt starts under a row lock only on
a queued run (or a running one whose lease ran out), and finished runs are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.utils import translation
from django.utils.translation import gettext as _

from cloudify.logging import bind_run_id
from integrations import ratelimit
from integrations.deadline import deadline
from integrations.errors import IntegrationError
from integrations.fortnox.client import FortnoxClient
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.errors import HubSpotUninstalled
from sync.context import RunContext, RunFailure
from sync.customer_sync import customer_sync_run
from sync.dispatch import attempt_end, attempt_start
from sync.document_run import document_run
from sync.finish import portal_language, run_fail, run_observer
from sync.mapping import mappings_for
from sync.models import Run, RunKind, SyncSettings
from sync.product_sync import product_sync_run

logger = logging.getLogger(__name__)

# What each kind of run does.
HANDLERS: dict[str, Callable[[RunContext], None]] = {
    RunKind.INVOICE: document_run,
    RunKind.ORDER: document_run,
    RunKind.CUSTOMER_SYNC: customer_sync_run,
    RunKind.PRODUCT_SYNC: product_sync_run,
}


# An attempt's calls end this long before its lease, leaving time to record what happened.
ATTEMPT_MARGIN = timedelta(seconds=15)


class RunTooSlow(IntegrationError):
    service = "app"
    transient = True


def run_context(
    run: Run,
    *,
    hubspot_type: Callable[..., HubSpotClient] = HubSpotClient,
    fortnox_type: Callable[..., FortnoxClient] = FortnoxClient,
) -> RunContext:
    """What a run's steps work with. The dry run (sync/dry_run.py) passes clients that read
    like a run's and create nothing."""
    installation = run.installation
    observer = run_observer(run)
    hubspot = hubspot_type(installation, observer=observer)
    connection = installation.active_fortnox_connection()
    if connection is None:
        raise RunFailure(
            _("Fortnox is not connected to this HubSpot portal."),
            _("Connect Fortnox in the app's settings, then Replay."),
        )
    sync_settings, _created = SyncSettings.objects.get_or_create(installation=installation)
    # An article number chosen in another Fortnox company means nothing in this one: this run
    # sees no default article (the run's copy only; the settings are never saved from here).
    sync_settings.default_article_number = sync_settings.default_article_for(
        connection.database_number
    )
    fortnox = fortnox_type(connection, observer=observer)
    if run.trigger == Run.Trigger.BULK:
        # Deal runs first: a bulk sync's record takes its calls from the company's bulk share
        # of the Fortnox pace (integrations/ratelimit.py FORTNOX_BULK_RATE).
        fortnox.share_bucket = (ratelimit.bulk_key(fortnox.rate_key), ratelimit.fortnox_bulk_rate())
    return RunContext(
        run=run,
        installation=installation,
        settings=sync_settings,
        mappings=mappings_for(sync_settings.field_mappings),
        hubspot=hubspot,
        fortnox=fortnox,
        fortnox_tenant=connection.database_number,
    )


def run_execute(run_id: int) -> Run:
    """One attempt of the run, if its portal has a free slot. A transient failure is raised for
    the task to retry; any other ends the run with a note that says what happened and what to
    do."""
    run = attempt_start(run_id)
    if run is None:
        return Run.objects.get(pk=run_id)
    # No call of this attempt outlives its lease (integrations/deadline.py): once the lease runs
    # out, the sweep may give the run to another worker, which must never find this one still
    # creating the document.
    # Everything the run says to the user (failures, fixes, info lines) is stored in the
    # portal's language: the note, the Runs tab and the failure task show it as it is.
    with (
        bind_run_id(run.pk),
        deadline(run.lease_until - ATTEMPT_MARGIN),
        translation.override(portal_language(run.installation)),
    ):
        try:
            HANDLERS[run.kind](run_context(run))
        except RunFailure as failure:
            run_fail(
                run.pk,
                failure.message,
                failure.fix,
                code=failure.code,
                service_message=failure.service_message,
            )
        except HubSpotUninstalled as exc:
            # No note possible: HubSpot no longer accepts our tokens for this portal.
            run_fail(run.pk, exc.message, exc.fix, code=exc.code, reachable=False)
        except IntegrationError as exc:
            if exc.transient:
                raise  # the task retries with backoff; only the final failure writes a note
            run_fail(
                run.pk, exc.message, exc.fix, code=exc.code, service_message=exc.service_message
            )
        except SoftTimeLimitExceeded as exc:
            # Slow answers, not bad data: the task retries, and a retry finds a document this
            # attempt may have created by its external reference.
            raise RunTooSlow(
                _("The run stopped after %(seconds)s s because HubSpot or Fortnox answered slowly.")
                % {"seconds": django_settings.CELERY_TASK_SOFT_TIME_LIMIT},
                fix=_("Nothing to do: the app tries again by itself."),
            ) from exc
        except Exception:
            # A fault of ours: end the run with a note rather than leave it running unseen.
            logger.exception("run failed unexpectedly", extra={"run": run.pk})
            run_fail(
                run.pk,
                _(
                    "The app hit an unexpected error and stopped this run. If a Fortnox "
                    "document was created before the error, a Replay finds and keeps it "
                    "instead of making another."
                ),
                _(
                    "Replay the run. If it fails the same way, contact support and quote run "
                    "%(run)s."
                )
                % {"run": run.pk},
                code="unexpected",
            )
        finally:
            attempt_end(run)
    return Run.objects.get(pk=run_id)
