"""Bulk sync from the settings page: "Sync companies now" and "Sync products now" (issue 15).

Not every company: a HubSpot company register is mostly prospects, and a Fortnox customer
number once used stays reserved even after the customer is deleted (fortnox-api.md code
2000637). The admin picks a scope, sees the count, and confirms:
- companies with a deal in a pipeline added on the Invoices & orders tab (the default): the
  deals search (`pipeline IN ...`), then each page's associated companies (one batch read),
  deduplicated;
- the members of a HubSpot list (Lists API v3, optional scope `crm.lists.read`);
- the companies at a lifecycle stage (the companies search on `lifecyclestage`);
- products: all of them.

Paging and resuming. Each page's runs (one per record: kind customer sync or product sync,
trigger bulk, trigger key "bulk:<id>") are created in the transaction that saves the cursor,
so a crash between pages resumes at the next page, and a crash inside one redoes that page,
whose runs the runs' unique constraint (and the check below) keeps from being created twice.
The search API answers at most 10,000 results per query, so searches are paged by id ranges
(`hs_object_id > last id`, sorted by id: integrations/hubspot/search.py), never by `after`
beyond the first page; list memberships page by their own `after` token, which has no cap.
A task pages for TASK_BUDGET, then sends itself again (a worker's soft time limit is 120 s);
its heartbeat tells the sweep (beat, every minute) which syncs lost their worker.

Cost. The runs' customer service costs one Fortnox call for a record that changed and none for
one already in step (its fingerprint: sync/customers.py). A company without a mapping costs a
lookup by organisation number before the create; prefetching the whole Fortnox customer register
once would save those lookups only when a bulk sync creates more customers than the register has
pages of 500, and a register read minutes before a run may miss a customer a deal run created
meanwhile (a duplicate customer, whose number stays reserved), so the runs look up for
themselves. A record with a run already queued (a webhook change, a workflow) is not queued
again: that run reads the record when it starts. The runs wait for the portal's bulk slot
(sync/dispatch.py): at most one at a time, after deal runs and person-started syncs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from integrations.errors import IntegrationError
from integrations.hubspot.associations_batch import associated_ids_batch
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.lists import (
    COMPANIES_TYPE_ID,
    MEMBERSHIPS_LIMIT_MAX,
    HubSpotList,
    list_get,
    list_memberships_page,
    lists_scope_granted,
    lists_search,
)
from integrations.hubspot.properties import object_properties_list
from integrations.hubspot.search import SEARCH_LIMIT_MAX, SearchFilter, records_search_ids
from integrations.models import HubSpotInstallation
from sync.dispatch import runs_create_waiting
from sync.execute import HANDLERS
from sync.finish import portal_language
from sync.models import BulkSync, PipelineSetting, Run, RunKind, SubjectType

logger = logging.getLogger(__name__)

COUNT_TASK = "sync.tasks.bulk_count_task"
PAGE_TASK = "sync.tasks.bulk_sync_task"
ACTIVE = (BulkSync.Status.COUNTING, BulkSync.Status.COUNTED, BulkSync.Status.RUNNING)
KINDS = {
    BulkSync.ObjectType.COMPANIES: (RunKind.CUSTOMER_SYNC, SubjectType.COMPANY),
    BulkSync.ObjectType.PRODUCTS: (RunKind.PRODUCT_SYNC, SubjectType.PRODUCT),
}
SCOPES = {
    BulkSync.ObjectType.COMPANIES: (
        BulkSync.Scope.PIPELINE_DEALS,
        BulkSync.Scope.LIST,
        BulkSync.Scope.LIFECYCLE_STAGE,
    ),
    BulkSync.ObjectType.PRODUCTS: (BulkSync.Scope.ALL,),
}
# One task pages this long, then sends itself again: well inside the 120 s soft time limit.
TASK_BUDGET = timedelta(seconds=60)
# A running sync whose task has not beaten for this long lost its worker: the sweep resumes it.
# Longer than one page can take (a search and a batch read, each retried for at most ~30 s).
STALE = timedelta(minutes=2)
FAILURES_SHOWN = 50


class BulkRefused(Exception):
    """A bulk sync that cannot start or go on, with what to do."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


# -- selectors ----------------------------------------------------------------------------------


def bulk_object_types() -> list[str]:
    """What can be bulk synced: object types whose run kind has a handler."""
    return [object_type for object_type, (kind, _s) in KINDS.items() if kind in HANDLERS]


def bulk_sync_latest(installation: HubSpotInstallation, object_type: str) -> BulkSync | None:
    return (
        BulkSync.objects.filter(installation=installation, object_type=object_type)
        .order_by("-created_at", "-pk")
        .first()
    )


def bulk_pipelines(installation: HubSpotInstallation) -> list[PipelineSetting]:
    return list(PipelineSetting.objects.filter(settings__installation=installation).order_by("pk"))


def bulk_lifecycle_stages(installation: HubSpotInstallation) -> list[dict[str, str]]:
    """The company property `lifecyclestage`'s options, as the portal has them."""
    for prop in object_properties_list(HubSpotClient(installation), "companies"):
        if prop["name"] == "lifecyclestage":
            return prop["options"]
    return []


def bulk_lists(installation: HubSpotInstallation) -> list[HubSpotList] | None:
    """The portal's company lists; None when the app may not read lists (the optional scope)."""
    if not lists_scope_granted(installation):
        return None
    return lists_search(HubSpotClient(installation), COMPANIES_TYPE_ID)


@dataclass(frozen=True)
class Failure:
    run_id: int
    subject_id: str
    message: str
    fix: str


@dataclass(frozen=True)
class Progress:
    total: int | None
    queued: int  # runs created so far
    waiting: int  # not finished yet (waiting for the bulk slot, or under way)
    synced: int  # created or updated in Fortnox, or found there
    in_step: int  # already in step: nothing sent
    skipped: int  # nothing to send, for a reason (a product without a SKU under SKU search)
    failed: int
    cancelled: int
    coalesced: int  # already queued by another trigger: not queued again
    paging_done: bool
    finished: bool
    failures: list[Failure]

    @property
    def done(self) -> int:
        return (
            self.synced
            + self.in_step
            + self.skipped
            + self.failed
            + self.cancelled
            + self.coalesced
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "queued": self.queued,
            "waiting": self.waiting,
            "synced": self.synced,
            "in_step": self.in_step,
            "skipped": self.skipped,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "coalesced": self.coalesced,
            "done": self.done,
            "paging_done": self.paging_done,
            "finished": self.finished,
        }


def _in_step(run_filter: Q) -> Q:
    # A customer sync's outcome (sync/customer_sync.py); a product's lists its one article
    # (sync/product_sync.py).
    return run_filter & (
        Q(data_read__outcome__action="unchanged")
        | Q(data_read__outcome__articles__0__action="unchanged")
    )


# A product the product sync skipped, saying why (sync/product_sync.py): not silent, listed.
SKIPPED_PRODUCT = Q(data_read__outcome__articles__0__action="skipped")


def _skip_reason(run: Run) -> str:
    articles = (run.data_read.get("outcome") or {}).get("articles") or [{}]
    return str(articles[0].get("reason") or "")


def bulk_progress(bulk: BulkSync) -> Progress:
    """Where the bulk sync is, from its runs (the runs are its progress)."""
    runs = Run.objects.filter(installation_id=bulk.installation_id, trigger_key=bulk.trigger_key)
    succeeded = Q(status=Run.Status.SUCCEEDED)
    counts = runs.aggregate(
        queued=Count("pk"),
        waiting=Count("pk", filter=Q(status__in=[Run.Status.QUEUED, Run.Status.RUNNING])),
        succeeded=Count("pk", filter=succeeded),
        in_step=Count("pk", filter=_in_step(succeeded)),
        skipped=Count("pk", filter=succeeded & SKIPPED_PRODUCT),
        failed=Count("pk", filter=Q(status=Run.Status.FAILED)),
        cancelled=Count("pk", filter=Q(status=Run.Status.SKIPPED)),
    )
    failures = [
        Failure(r.pk, r.subject_id, r.error_message, r.error_fix)
        for r in runs.filter(status=Run.Status.FAILED).order_by("pk")[:FAILURES_SHOWN]
    ] + [
        Failure(r.pk, r.subject_id, _skip_reason(r), "")
        for r in runs.filter(succeeded & SKIPPED_PRODUCT).order_by("pk")[:FAILURES_SHOWN]
    ]
    paging_done = bool(bulk.cursor.get("done"))
    return Progress(
        total=bulk.total,
        queued=counts["queued"],
        waiting=counts["waiting"],
        synced=counts["succeeded"] - counts["in_step"] - counts["skipped"],
        in_step=counts["in_step"],
        skipped=counts["skipped"],
        failed=counts["failed"],
        cancelled=counts["cancelled"],
        coalesced=int(bulk.cursor.get("coalesced", 0)),
        paging_done=paging_done,
        finished=bulk.status in (BulkSync.Status.DONE, BulkSync.Status.CANCELLED)
        or (paging_done and counts["waiting"] == 0),
        failures=failures,
    )


# -- scopes: counting and paging through HubSpot --------------------------------------------------


def _pipeline_ids(installation_id: int) -> list[str]:
    return list(
        PipelineSetting.objects.filter(settings__installation_id=installation_id)
        .order_by("pk")
        .values_list("pipeline_id", flat=True)
    )


def _search_filters(bulk: BulkSync) -> tuple[str, list[SearchFilter]]:
    if bulk.scope == BulkSync.Scope.PIPELINE_DEALS:
        pipelines = tuple(_pipeline_ids(bulk.installation_id))
        return "deals", [SearchFilter("pipeline", "IN", values=pipelines)]
    if bulk.scope == BulkSync.Scope.LIFECYCLE_STAGE:
        return "companies", [SearchFilter("lifecyclestage", "EQ", bulk.scope_value)]
    return "products", []


def _page_read(
    client: HubSpotClient, bulk: BulkSync, position: dict[str, Any], size: int | None
) -> tuple[list[str], dict[str, Any] | None]:
    """One page of the scope's record ids from `position` ({} at the start), and the position
    of the next page (None after the last)."""
    if bulk.scope == BulkSync.Scope.LIST:
        page = list_memberships_page(
            client, bulk.scope_value, position.get("after"), size or MEMBERSHIPS_LIMIT_MAX
        )
        return page.record_ids, ({"after": page.after} if page.after else None)
    object_type, filters = _search_filters(bulk)
    page = records_search_ids(
        client,
        object_type,
        filters,
        after_id=position.get("last_id"),
        limit=size or SEARCH_LIMIT_MAX,
    )
    ids = page.ids
    if bulk.scope == BulkSync.Scope.PIPELINE_DEALS:
        companies = associated_ids_batch(client, "deals", "companies", ids)
        ids = list(dict.fromkeys(c for deal in ids for c in companies.get(deal, [])))
    return ids, ({"last_id": page.last_id} if page.last_id else None)


def _count(client: HubSpotClient, bulk: BulkSync) -> int:
    """How many records the scope holds now. A search says its total; the companies of the
    pipelines' deals and a list's members are counted by paging through them (a list's own
    size is approximate: integrations/hubspot/lists.py)."""
    if bulk.scope in (BulkSync.Scope.LIFECYCLE_STAGE, BulkSync.Scope.ALL):
        object_type, filters = _search_filters(bulk)
        return records_search_ids(client, object_type, filters, limit=1).total
    seen: set[str] = set()
    position: dict[str, Any] | None = {}
    while position is not None:
        ids, position = _page_read(client, bulk, position, None)
        seen.update(ids)
        bulk.heartbeat_at = timezone.now()
        bulk.save(update_fields=["heartbeat_at"])
    return len(seen)


# -- services -----------------------------------------------------------------------------------


def _scope_check(installation: HubSpotInstallation, object_type: str, scope: str, value: str):
    if object_type not in bulk_object_types():
        raise BulkRefused(
            _("This app cannot sync %(what)s in bulk yet.") % {"what": object_type},
            _("Sync companies instead, or ask support when it will be possible."),
        )
    if scope not in SCOPES[object_type]:
        raise BulkRefused(
            _("That choice of records does not apply here."),
            _("Pick one of the choices shown on the page."),
        )
    if scope == BulkSync.Scope.PIPELINE_DEALS and not _pipeline_ids(installation.pk):
        raise BulkRefused(
            _("No pipeline is added to the sync, so no company has a deal in one."),
            _("Add a pipeline on the Invoices & orders tab, or choose a list or lifecycle stage."),
        )
    if scope == BulkSync.Scope.LIST:
        if not lists_scope_granted(installation):
            raise BulkRefused(
                _("The app has no permission to read HubSpot lists."),
                _(
                    "Authorise the app again in HubSpot to give it the permission “lists” "
                    "(crm.lists.read), or choose another way to pick the companies."
                ),
            )
        if not value.strip():
            raise BulkRefused(_("No list was chosen."), _("Choose a list of companies."))
    if scope == BulkSync.Scope.LIFECYCLE_STAGE and not value.strip():
        raise BulkRefused(_("No lifecycle stage was chosen."), _("Choose a lifecycle stage."))


def _running(installation: HubSpotInstallation, object_type: str):
    return BulkSync.objects.filter(
        installation=installation, object_type=object_type, status=BulkSync.Status.RUNNING
    )


def _live_runs(bulk: BulkSync):
    return Run.objects.filter(
        installation_id=bulk.installation_id,
        trigger_key=bulk.trigger_key,
        status__in=[Run.Status.QUEUED, Run.Status.RUNNING],
    )


def _finished_close(bulk: BulkSync, now: datetime) -> int:
    """Mark done a running sync whose paging is done and whose runs have all ended."""
    if not bulk.cursor.get("done") or _live_runs(bulk).exists():
        return 0
    return BulkSync.objects.filter(pk=bulk.pk, status=BulkSync.Status.RUNNING).update(
        status=BulkSync.Status.DONE, finished_at=now
    )


def bulk_sync_run_ended(run: Run) -> None:
    """A run of a bulk sync ended: when it was the last one and the paging is done, the sync is
    done now, not at the next sweep (the page shows "Done" as soon as it is)."""
    if run.trigger != Run.Trigger.BULK or not run.is_finished:
        return
    bulk = BulkSync.objects.filter(
        installation_id=run.installation_id, pk=run.trigger_key.removeprefix("bulk:")
    ).first()
    if bulk is not None and bulk.status == BulkSync.Status.RUNNING:
        _finished_close(bulk, timezone.now())


def _refuse_when_running(installation: HubSpotInstallation, object_type: str) -> None:
    for bulk in _running(installation, object_type):
        _finished_close(bulk, timezone.now())
    if _running(installation, object_type).exists():
        raise BulkRefused(
            _("A bulk sync of these records is already running."),
            _("Wait until it has finished, or cancel it, then start another."),
        )


def _send(task: str, bulk_id: int) -> None:
    transaction.on_commit(lambda: current_app.send_task(task, args=[bulk_id]))


def bulk_sync_count_start(
    installation: HubSpotInstallation,
    *,
    object_type: str,
    scope: str,
    scope_value: str = "",
    scope_label: str = "",
    started_by: str = "",
) -> BulkSync:
    """Count the scope's records (in the background; the page shows the count), as the first
    step of a bulk sync. A counted sync of the same kind not confirmed is replaced."""
    _scope_check(installation, object_type, scope, scope_value)
    with transaction.atomic():
        list(HubSpotInstallation.objects.select_for_update().filter(pk=installation.pk))
        _refuse_when_running(installation, object_type)
        BulkSync.objects.filter(
            installation=installation,
            object_type=object_type,
            status__in=[BulkSync.Status.COUNTING, BulkSync.Status.COUNTED],
        ).update(status=BulkSync.Status.CANCELLED, finished_at=timezone.now())
        bulk = BulkSync.objects.create(
            installation=installation,
            object_type=object_type,
            scope=scope,
            scope_value=scope_value.strip(),
            scope_label=scope_label[:300],
            started_by=started_by,
            heartbeat_at=timezone.now(),
        )
        _send(COUNT_TASK, bulk.pk)
    return bulk


def bulk_sync_count(bulk_id: int) -> str:
    """The count task's work: the scope's records counted, or the reason they could not be.
    A transient failure is raised for the task to retry."""
    bulk = BulkSync.objects.select_related("installation").get(pk=bulk_id)
    if bulk.status != BulkSync.Status.COUNTING:
        return bulk.status
    # What the page shows of a failure is stored in the portal's language, as runs' are.
    with translation.override(portal_language(bulk.installation)):
        return _count_made(bulk)


def _count_made(bulk: BulkSync) -> str:
    client = HubSpotClient(bulk.installation)
    try:
        if bulk.scope == BulkSync.Scope.LIST and not bulk.scope_label:
            bulk.scope_label = list_get(client, bulk.scope_value).name[:300]
        total = _count(client, bulk)
    except IntegrationError as exc:
        if exc.transient:
            raise
        BulkSync.objects.filter(pk=bulk.pk, status=BulkSync.Status.COUNTING).update(
            status=BulkSync.Status.FAILED,
            error=f"{exc.message} {exc.fix}".strip(),
            finished_at=timezone.now(),
        )
        return BulkSync.Status.FAILED
    BulkSync.objects.filter(pk=bulk.pk, status=BulkSync.Status.COUNTING).update(
        status=BulkSync.Status.COUNTED, total=total, scope_label=bulk.scope_label
    )
    return BulkSync.Status.COUNTED


def bulk_sync_confirm(bulk: BulkSync) -> BulkSync:
    """The admin confirmed the count: page through the scope and queue the runs."""
    with transaction.atomic():
        list(HubSpotInstallation.objects.select_for_update().filter(pk=bulk.installation_id))
        bulk = BulkSync.objects.select_for_update().get(pk=bulk.pk)
        if bulk.status != BulkSync.Status.COUNTED:
            raise BulkRefused(
                _("This count was already started, discarded or replaced by a newer one."),
                _("Count the records again, then confirm."),
            )
        _refuse_when_running(bulk.installation, bulk.object_type)
        now = timezone.now()
        bulk.status = BulkSync.Status.RUNNING
        bulk.confirmed_at = now
        bulk.heartbeat_at = now
        bulk.save(update_fields=["status", "confirmed_at", "heartbeat_at"])
        _send(PAGE_TASK, bulk.pk)
    return bulk


def bulk_sync_cancel(bulk: BulkSync) -> BulkSync:
    """Stop paging and skip the runs not started yet; runs under way finish."""
    with transaction.atomic():
        bulk = BulkSync.objects.select_for_update().get(pk=bulk.pk)
        if bulk.status not in ACTIVE:
            return bulk
        bulk.status = BulkSync.Status.CANCELLED
        bulk.finished_at = timezone.now()
        bulk.save(update_fields=["status", "finished_at"])
        Run.objects.filter(
            installation_id=bulk.installation_id,
            trigger_key=bulk.trigger_key,
            status=Run.Status.QUEUED,
            attempts=0,
        ).update(
            status=Run.Status.SKIPPED,
            finished_at=bulk.finished_at,
            waiting_since=None,
            error_message=_("The bulk sync was cancelled before this record's turn."),
        )
    return bulk


def _page_commit(
    bulk_id: int, position: dict[str, Any], ids: list[str], next_position: dict[str, Any] | None
) -> bool:
    """Queue one page's runs and move the cursor, in one transaction. False when the sync
    moved on meanwhile (cancelled, or another worker committed this page): nothing is saved."""
    with transaction.atomic():
        bulk = BulkSync.objects.select_for_update().get(pk=bulk_id)
        if bulk.status != BulkSync.Status.RUNNING or bulk.cursor.get("position", {}) != position:
            return False
        kind, subject_type = KINDS[bulk.object_type]
        runs = Run.objects.filter(
            installation_id=bulk.installation_id, kind=kind, subject_type=subject_type
        )
        # Queued once per bulk sync, whatever its status now (a company with two deals in the
        # scope comes up on two pages).
        seen = set(
            runs.filter(trigger_key=bulk.trigger_key, subject_id__in=ids).values_list(
                "subject_id", flat=True
            )
        )
        fresh = [i for i in dict.fromkeys(ids) if i not in seen]
        # Bursts: a run queued by another trigger reads the record when it starts.
        queued = set(
            runs.filter(status=Run.Status.QUEUED, subject_id__in=fresh).values_list(
                "subject_id", flat=True
            )
        )
        created = runs_create_waiting(
            [
                Run(
                    installation_id=bulk.installation_id,
                    subject_type=subject_type,
                    subject_id=record_id,
                    kind=kind,
                    trigger=Run.Trigger.BULK,
                    trigger_key=bulk.trigger_key,
                )
                for record_id in fresh
                if record_id not in queued
            ]
        )
        bulk.queued += created
        bulk.cursor = {
            "position": next_position or {},
            "done": next_position is None,
            "pages": int(bulk.cursor.get("pages", 0)) + 1,
            "coalesced": int(bulk.cursor.get("coalesced", 0)) + len(queued),
        }
        bulk.heartbeat_at = timezone.now()
        bulk.error = ""
        fields = ["queued", "cursor", "heartbeat_at", "error"]
        if next_position is None and bulk.total != bulk.queued + bulk.cursor["coalesced"]:
            # The scope changed since the count: the progress adds up to what was queued.
            bulk.total = bulk.queued + bulk.cursor["coalesced"]
            fields.append("total")
        bulk.save(update_fields=fields)
    return True


def bulk_sync_advance(
    bulk_id: int,
    *,
    page_size: int | None = None,
    max_pages: int | None = None,
    budget: timedelta = TASK_BUDGET,
) -> str:
    """Page through the scope from the saved cursor, queueing each page's runs, for `budget`
    (or `max_pages`); returns "done", "more" (call again), "stopped" (not running any more,
    or another worker went on) or "interrupted" (HubSpot failed: the sweep resumes)."""
    bulk = BulkSync.objects.select_related("installation").get(pk=bulk_id)
    with translation.override(portal_language(bulk.installation)):
        return _pages_queued(bulk, page_size, max_pages, budget)


def _pages_queued(
    bulk: BulkSync, page_size: int | None, max_pages: int | None, budget: timedelta
) -> str:
    client = HubSpotClient(bulk.installation)
    ends = timezone.now() + budget
    pages = 0
    while True:
        bulk.refresh_from_db()
        if bulk.status != BulkSync.Status.RUNNING:
            return "stopped"
        if bulk.cursor.get("done"):
            # Every record is queued; if their runs have all ended already, the sync is done.
            _finished_close(bulk, timezone.now())
            return "done"
        if timezone.now() >= ends or (max_pages is not None and pages >= max_pages):
            return "more"
        position = bulk.cursor.get("position", {})
        try:
            ids, next_position = _page_read(client, bulk, position, page_size)
        except IntegrationError as exc:
            return _paging_failed(bulk, exc)
        if not _page_commit(bulk.pk, position, ids, next_position):
            return "stopped"
        pages += 1


def _paging_failed(bulk: BulkSync, exc: IntegrationError) -> str:
    """A transient failure leaves the sync running for the sweep to resume (its heartbeat goes
    stale); any other ends it, saying why."""
    error = f"{exc.message} {exc.fix}".strip()
    logger.warning("bulk sync paging failed", extra={"bulk_sync": bulk.pk, "error": exc.message})
    if exc.transient:
        BulkSync.objects.filter(pk=bulk.pk).update(error=error)
        return "interrupted"
    BulkSync.objects.filter(pk=bulk.pk, status=BulkSync.Status.RUNNING).update(
        status=BulkSync.Status.FAILED, error=error, finished_at=timezone.now()
    )
    return "failed"


def bulk_syncs_sweep(now: datetime | None = None) -> dict[str, int]:
    """Every minute (beat): resume the syncs whose worker died (heartbeat stale), count again
    the counts whose worker died, and mark finished the syncs whose runs have all ended."""
    now = now or timezone.now()
    stale = now - STALE
    result = {"resumed": 0, "recounted": 0, "finished": 0}
    with transaction.atomic():
        lost = [
            bulk.pk
            for bulk in BulkSync.objects.select_for_update(skip_locked=True).filter(
                status=BulkSync.Status.RUNNING, heartbeat_at__lt=stale
            )
            if not bulk.cursor.get("done")
        ]
        BulkSync.objects.filter(pk__in=lost).update(heartbeat_at=now)
        for pk in lost:
            _send(PAGE_TASK, pk)
        result["resumed"] = len(lost)
        counting = list(
            BulkSync.objects.select_for_update(skip_locked=True)
            .filter(status=BulkSync.Status.COUNTING, heartbeat_at__lt=stale)
            .values_list("pk", flat=True)
        )
        BulkSync.objects.filter(pk__in=counting).update(heartbeat_at=now)
        for pk in counting:
            _send(COUNT_TASK, pk)
        result["recounted"] = len(counting)
    for bulk in BulkSync.objects.filter(status=BulkSync.Status.RUNNING):
        result["finished"] += _finished_close(bulk, now)
    if result["resumed"] or result["recounted"]:
        logger.warning("bulk syncs resumed", extra=result)
    return result
