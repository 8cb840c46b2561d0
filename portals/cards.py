"""What the app cards show and do (issue 16): the contact and company card (the Fortnox
customer's figures, Update, Perform Sync) and the deal card (the deal's Fortnox documents, the
last run, Replay, Create now / Create again). The views (portals/views_cards.py) check the
signature and the query; everything here works on an installation and a record already trusted.

Answers come from the service's own data (stored figures and documents, runs), never from a
Fortnox call, so a GET is quick. The buttons do their work and wait for it up to WAIT_S; what
is not done by then goes on in the background (`busy`), and the card polls.

Who may press (SyncSettings.card_actions): "allow_list" (the default) is the portal's super
admins and the users allowed on the settings page's Users tab; "everyone" is every user of the
portal. HubSpot offers no confirmed API for one user's edit right on one record, so the
issue's "users with edit rights on the record" is not offered.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from integrations.errors import IntegrationError
from integrations.hubspot.client import HubSpotClient
from integrations.hubspot.crm import deal_pipelines, record_get
from integrations.hubspot.errors import HubSpotNotFound
from integrations.models import HubSpotInstallation
from portals import roles
from portals.models import PortalEditor
from portals.views_runs import TRIGGER_LABELS
from sync import figures
from sync.models import (
    DOCUMENT_KINDS,
    CardAction,
    CustomerMapping,
    Run,
    RunKind,
    SubjectType,
    SyncSettings,
)
from sync.replay import run_replay
from sync.run_words import sync_result
from sync.runs import run_create
from sync.selectors import run_trigger_runs

logger = logging.getLogger(__name__)

# How long a button waits for its work before answering `busy` (HubSpot gives up after 15 s).
WAIT_S = 8.0
POLL_S = 0.2
# The latest press's outcome is shown for this long (the card polls while it runs).
OUTCOME_SHOWN = timedelta(minutes=10)
# A Perform Sync not finished after this long is taken for lost (its task's hard limit is 180 s).
SYNC_LOST_AFTER = timedelta(minutes=5)
ROLE_CACHE_S = 300
PIPELINES_CACHE_S = 600
KNOWN_RECORD_CACHE_S = 3600
# Perform Sync's task (portals/tasks.py), sent by name: the tasks module imports this one.
REFRESH_TASK = "portals.tasks.card_refresh_task"
CUSTOMER_SUBJECTS = (SubjectType.COMPANY, SubjectType.CONTACT)


class CardRefused(Exception):
    """An answer other than the card's state: `status` and the JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body


@dataclass(frozen=True)
class CardCaller:
    installation: HubSpotInstallation
    user_id: int
    email: str
    object_type: str  # "contacts" | "companies" | "deals"
    object_id: str


# -- who may press ----------
def _role(installation: HubSpotInstallation, user_id: int) -> str:
    key = f"cards:role:{installation.hub_id}:{user_id}"
    role = cache.get(key)
    if role is None:
        role = roles.portal_role_read(installation.hub_id, user_id)
        if role != roles.UNKNOWN:
            cache.set(key, role, ROLE_CACHE_S)
    return role


def card_may_act(caller: CardCaller) -> bool:
    """Whether the caller may press the card's buttons (SyncSettings.card_actions)."""
    installation = caller.installation
    sync_settings = SyncSettings.objects.filter(installation=installation).first()
    if sync_settings and sync_settings.card_actions == SyncSettings.CardActions.EVERYONE:
        return True
    allowed = Q(user_id=caller.user_id)
    if caller.email:
        allowed |= Q(email__iexact=caller.email)
    if PortalEditor.objects.filter(allowed, installation=installation).exists():
        return True
    role = _role(installation, caller.user_id)
    if role == roles.SUPER_ADMIN:
        return True
    # Without the users scope the app cannot tell super admins apart: the user who installed
    # the app (HubSpot let them: a super admin or Marketplace Access) may, as on the page.
    return role == roles.UNKNOWN and caller.user_id == installation.installed_by_user_id


def card_refusal_not_allowed(installation: HubSpotInstallation) -> CardRefused:
    return CardRefused(
        403,
        {
            "error": "not allowed",
            "message": _(
                "Only super admins of this HubSpot account and the users allowed on the Users "
                "tab of the app's settings may use the card's buttons."
            ),
            "fix": _(
                "Ask a super admin to allow you on the Users tab, or to let every user press "
                "the buttons (settings page, General tab, “Who may use the app card's "
                "buttons”)."
            ),
            "settings_url": _settings_url(installation, "settings-general"),
        },
    )


# -- the record belongs to this portal ----------
def card_record_check(caller: CardCaller) -> None:
    """Refuses (403) a record the app does not know in this installation and HubSpot does not
    return through this portal's token: another portal's record id."""
    installation = caller.installation
    key = f"cards:known:{installation.pk}:{caller.object_type}:{caller.object_id}"
    if cache.get(key):
        return
    known = (
        CustomerMapping.objects.filter(
            installation=installation,
            hubspot_object_type=caller.object_type,
            hubspot_object_id=caller.object_id,
        ).exists()
        or Run.objects.filter(
            installation=installation,
            subject_type=caller.object_type,
            subject_id=caller.object_id,
        ).exists()
    )
    if not known:
        try:
            record_get(
                HubSpotClient(installation), caller.object_type, caller.object_id, ["hs_object_id"]
            )
        except HubSpotNotFound:
            logger.warning(
                "card request for a record the portal does not have",
                extra={
                    "portal": installation.hub_id,
                    "object_type": caller.object_type,
                    "object_id": caller.object_id,
                },
            )
            raise CardRefused(
                403,
                {
                    "error": "record of another portal",
                    "message": _(
                        "HubSpot account %(hub_id)s has no such record (%(object)s %(id)s): "
                        "the app answers only for records of the account the card is shown in."
                    )
                    % {
                        "hub_id": installation.hub_id,
                        "object": _object_word(caller.object_type),
                        "id": caller.object_id,
                    },
                },
            ) from None
        except IntegrationError as exc:
            raise CardRefused(
                502,
                {
                    "error": "hubspot unavailable",
                    "message": _("HubSpot did not answer when the app checked the record.")
                    + f" ({exc.message})",
                    "fix": _("Open the record again in a minute."),
                },
            ) from None
    cache.set(key, True, KNOWN_RECORD_CACHE_S)


def _object_word(object_type: str) -> str:
    return {
        SubjectType.DEAL: pgettext("hubspot record", "deal"),
        SubjectType.COMPANY: pgettext("hubspot record", "company"),
        SubjectType.CONTACT: pgettext("hubspot record", "contact"),
    }.get(object_type, object_type)


# -- shared pieces ----------
def _settings_url(installation: HubSpotInstallation, name: str = "portal-settings") -> str:
    return settings.PUBLIC_BASE_URL + reverse(name, kwargs={"hub_id": installation.hub_id})


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def _day(value) -> str | None:
    return value.isoformat() if value else None


def _moment(value) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def document_json(document: figures.DocumentView) -> dict[str, Any]:
    answer = {
        "kind": document.kind,
        "number": document.number,
        "status": document.status,
        "date": _day(document.date),
        "due_date": _day(document.due_date),
        "total": _money(document.total),
        "balance": _money(document.balance),
        "currency": document.currency,
        "url": document.url,
    }
    if document.kind == "order":
        answer["invoice"] = document_json(document.invoice) if document.invoice else None
    return answer


def _latest_action(caller: CardCaller) -> CardAction | None:
    action = (
        CardAction.objects.filter(
            installation=caller.installation,
            subject_type=caller.object_type,
            subject_id=caller.object_id,
            created_at__gte=timezone.now() - OUTCOME_SHOWN,
        )
        .select_related("run")
        .order_by("-created_at", "-pk")
        .first()
    )
    if action is not None:
        _action_follow(action)
    return action


def _run_words(run: Run) -> tuple[str, str]:
    """What a finished run tells the card's user: (message, fix)."""
    if run.status == Run.Status.FAILED:
        return run.error_message, run.error_fix
    if run.status == Run.Status.SKIPPED:
        return run.error_message or _("Nothing was done."), run.error_fix
    if run.kind == RunKind.CUSTOMER_SYNC:
        result = sync_result(run)
        return (_("Fortnox %(result)s.") % {"result": result} if result else _("Done.")), ""
    document = _("Invoice") if run.kind == RunKind.INVOICE else _("Order")
    return (
        _("%(document)s %(number)s was created in Fortnox as a draft.")
        % {"document": document, "number": run.fortnox_document_number},
        "",
    )


def _action_follow(action: CardAction) -> None:
    """A running press that follows a run takes the run's end; a lost Perform Sync ends."""
    if action.status != CardAction.Status.RUNNING:
        return
    if action.run_id is not None:
        run = action.run
        if not run.is_finished:
            return
        action.status = (
            CardAction.Status.SUCCEEDED
            if run.status == Run.Status.SUCCEEDED
            else CardAction.Status.FAILED
        )
        action.message, action.fix = _run_words(run)
    elif action.created_at < timezone.now() - SYNC_LOST_AFTER:
        action.status = CardAction.Status.FAILED
        action.message = _("Reading from Fortnox did not finish.")
        action.fix = _("Press Perform Sync again.")
    else:
        return
    action.finished_at = timezone.now()
    CardAction.objects.filter(pk=action.pk, status=CardAction.Status.RUNNING).update(
        status=action.status, message=action.message, fix=action.fix, finished_at=action.finished_at
    )


def _outcome(action: CardAction | None) -> dict[str, Any] | None:
    if action is None:
        return None
    if action.status == CardAction.Status.RUNNING:
        return {
            "action": action.action,
            "status": "running",
            "message": _(
                "Still working: Fortnox is taking a while. This card updates when it is done."
            ),
            "fix": "",
        }
    return {
        "action": action.action,
        "status": action.status,
        "message": action.message,
        "fix": action.fix,
    }


def _wait(action: CardAction, deadline: float) -> CardAction:
    while True:
        action.refresh_from_db()
        _action_follow(action)
        if action.status != CardAction.Status.RUNNING or time.monotonic() >= deadline:
            return action
        time.sleep(POLL_S)


def _action_start(caller: CardCaller, kind: str, run: Run | None = None) -> CardAction:
    return CardAction.objects.create(
        installation=caller.installation,
        subject_type=caller.object_type,
        subject_id=caller.object_id,
        action=kind,
        run=run,
        user_id=caller.user_id,
    )


def _refresh_start(caller: CardCaller) -> CardAction:
    """Perform Sync (a customer's invoices, or a deal's documents) in a Celery task."""
    action = _action_start(caller, CardAction.Action.SYNC)
    transaction.on_commit(lambda: current_app.send_task(REFRESH_TASK, args=[action.pk]))
    return action


def card_refresh_execute(action_id: int) -> None:
    """The task's work: read from Fortnox, store, and end the press with what happened."""
    action = CardAction.objects.select_related("installation").filter(pk=action_id).first()
    if action is None or action.status != CardAction.Status.RUNNING:
        return
    installation = action.installation
    language = (
        SyncSettings.objects.filter(installation=installation)
        .values_list("language", flat=True)
        .first()
    )
    with translation.override(language or "sv"):
        try:
            if action.subject_type == SubjectType.DEAL:
                documents = figures.deal_documents_refresh(installation, action.subject_id)
                message = ngettext(
                    "Read %(count)s document of the deal from Fortnox.",
                    "Read %(count)s documents of the deal from Fortnox.",
                    len(documents),
                ) % {"count": len(documents)}
            else:
                view = figures.customer_figures_refresh(
                    installation, action.subject_type, action.subject_id
                )
                message = _("Read the invoices of Fortnox customer %(number)s.") % {
                    "number": view.customer_number
                }
            status, fix = CardAction.Status.SUCCEEDED, ""
        except figures.FiguresUnavailable as exc:
            status, message, fix = CardAction.Status.FAILED, exc.message, exc.fix
        except IntegrationError as exc:
            status, message = CardAction.Status.FAILED, exc.message
            fix = getattr(exc, "fix", "") or _("Press Perform Sync again in a few minutes.")
    CardAction.objects.filter(pk=action.pk, status=CardAction.Status.RUNNING).update(
        status=status, message=message, fix=fix, finished_at=timezone.now()
    )


# -- the contact and company card ----------
def customer_card(caller: CardCaller, can_act: bool) -> dict[str, Any]:
    installation = caller.installation
    action = _latest_action(caller)
    answer: dict[str, Any] = {
        "kind": "customer",
        "state": "ready",
        "can_act": can_act,
        "busy": bool(action and action.status == CardAction.Status.RUNNING),
        "settings_url": _settings_url(installation),
        "customer": None,
        "figures": None,
        "invoices": [],
        "message": "",
        "fix": "",
        "outcome": _outcome(action),
    }
    connection = installation.active_fortnox_connection()
    if connection is None:
        answer.update(
            state="not_connected",
            message=_("Fortnox is not connected to this HubSpot account."),
            fix=_("Connect Fortnox on the app's settings page."),
        )
        return answer
    mapping = CustomerMapping.objects.filter(
        installation=installation,
        fortnox_database_number=connection.database_number,
        hubspot_object_type=caller.object_type,
        hubspot_object_id=caller.object_id,
    ).first()
    if mapping is None:
        answer.update(
            state="no_customer",
            message=_("This company has no Fortnox customer yet.")
            if caller.object_type == SubjectType.COMPANY
            else _("This contact has no Fortnox customer yet."),
            fix=_("Press Update to create it in Fortnox from this record.")
            if can_act
            else _("A user allowed to use the card's buttons can create it with Update."),
        )
        return answer
    try:
        view = figures.customer_figures_get(installation, caller.object_type, caller.object_id)
    except figures.FiguresUnavailable as exc:
        answer.update(state=exc.code if exc.code != "fortnox" else "ready")
        answer.update(message=exc.message, fix=exc.fix)
        return answer
    answer["customer"] = {
        "number": mapping.fortnox_customer_number,
        "name": view.customer_name if view else "",
        "url": view.customer_url
        if view
        else figures.customer_url(connection.database_number, mapping.fortnox_customer_number),
    }
    if view is None:
        answer.update(
            state="not_synced",
            message=_("The invoices of Fortnox customer %(number)s have not been read yet.")
            % {"number": mapping.fortnox_customer_number},
            fix=_("Press Perform Sync to read them from Fortnox."),
        )
        return answer
    answer["figures"] = {
        "currency": "SEK",
        "total_invoiced": _money(view.total_invoiced),
        "balance": _money(view.balance),
        "overdue": _money(view.overdue),
        "synced_at": _moment(view.synced_at),
    }
    answer["invoices"] = [document_json(d) for d in view.latest_invoices]
    return answer


def customer_update(caller: CardCaller) -> dict[str, Any]:
    """Update: a customer-sync run for the record now (a fresh trigger per press)."""
    busy = _running_press(caller)
    if busy is not None:
        return customer_card(caller, can_act=True)
    key = f"card:{caller.user_id}:{int(time.time() * 1000)}"
    run = run_create(
        caller.installation,
        subject_type=caller.object_type,
        subject_id=caller.object_id,
        kind=RunKind.CUSTOMER_SYNC,
        trigger=Run.Trigger.CARD,
        trigger_key=key,
    )
    if run is not None:
        action = _action_start(caller, CardAction.Action.UPDATE, run)
        _wait(action, time.monotonic() + WAIT_S)
    return customer_card(caller, can_act=True)


def customer_sync(caller: CardCaller) -> dict[str, Any]:
    """Perform Sync: read the customer's invoices from Fortnox now (in the background)."""
    if _running_press(caller) is None:
        action = _refresh_start(caller)
        _wait(action, time.monotonic() + WAIT_S)
    return customer_card(caller, can_act=True)


def _running_press(caller: CardCaller) -> CardAction | None:
    action = _latest_action(caller)
    return action if action and action.status == CardAction.Status.RUNNING else None


# -- the deal card ----------
def _deal_runs(caller: CardCaller):
    return Run.objects.filter(
        installation=caller.installation,
        subject_type=SubjectType.DEAL,
        subject_id=caller.object_id,
        kind__in=DOCUMENT_KINDS,
    )


def _cancelled(documents: list[figures.DocumentView]) -> set[tuple[str, str]]:
    return {(d.kind, d.number) for d in documents if d.status == figures.CANCELLED}


@dataclass(frozen=True)
class CreateState:
    allowed: bool
    again: bool
    reason: str
    cancelled_count: int


def _stage_words(installation: HubSpotInstallation, pipeline_id: str, stage_ids: list[str]):
    """The pipeline's and trigger stages' labels as HubSpot shows them (cached), else the ids."""
    key = f"cards:pipelines:{installation.pk}"
    pipelines = cache.get(key)
    if pipelines is None:
        try:
            pipelines = deal_pipelines(HubSpotClient(installation))
        except IntegrationError:
            pipelines = []
        cache.set(key, pipelines, PIPELINES_CACHE_S)
    pipeline = next((p for p in pipelines if p["id"] == pipeline_id), None)
    labels = {s["id"]: s["label"] for s in (pipeline or {}).get("stages", [])}
    return [labels.get(s, s) for s in stage_ids]


def _automatic_pipeline_reason(caller: CardCaller) -> str:
    """Why Create now is not offered: the deal is in a pipeline whose stages create its
    document automatically ("" when it is not)."""
    installation = caller.installation
    sync_settings = SyncSettings.objects.filter(installation=installation).first()
    if sync_settings is None or not sync_settings.auto_create:
        return ""
    pipelines = {p.pipeline_id: p for p in sync_settings.pipelines.all() if p.trigger_stage_ids}
    if not pipelines:
        return ""
    key = f"cards:dealpipeline:{installation.pk}:{caller.object_id}"
    pipeline_id = cache.get(key)
    if pipeline_id is None:
        try:
            deal = record_get(
                HubSpotClient(installation), SubjectType.DEAL, caller.object_id, ["pipeline"]
            )
        except IntegrationError:
            return ""
        pipeline_id = str(deal.properties.get("pipeline") or "")
        cache.set(key, pipeline_id, 60)
    pipeline = pipelines.get(pipeline_id)
    if pipeline is None:
        return ""
    stages = _stage_words(installation, pipeline.pipeline_id, pipeline.trigger_stage_ids)
    return _(
        "Deals of pipeline %(pipeline)s get their Fortnox %(document)s automatically when they "
        "reach %(stages)s; Create now is for deals outside such a pipeline."
    ) % {
        "pipeline": pipeline.pipeline_label or pipeline.pipeline_id,
        "document": _("invoice") if pipeline.document_type == RunKind.INVOICE else _("order"),
        "stages": ", ".join(stages),
    }


def _create_state(caller: CardCaller, documents: list[figures.DocumentView]) -> CreateState:
    runs = _deal_runs(caller)
    cancelled = _cancelled(documents)
    live = runs.filter(status__in=[Run.Status.QUEUED, Run.Status.RUNNING]).order_by("pk").first()
    succeeded = list(runs.filter(status=Run.Status.SUCCEEDED).order_by("pk"))
    count = sum(1 for r in succeeded if (r.kind, r.fortnox_document_number) in cancelled)
    if live is not None:
        return CreateState(
            False,
            False,
            _("Run %(run)s is creating the deal's Fortnox document now.") % {"run": live.pk},
            count,
        )
    standing = [r for r in succeeded if (r.kind, r.fortnox_document_number) not in cancelled]
    if standing:
        run = standing[-1]
        return CreateState(
            False,
            False,
            _(
                "The deal already has Fortnox %(document)s %(number)s; the app never makes a "
                "second one. Cancel it in Fortnox first to create the deal's document again."
            )
            % {
                "document": _("invoice") if run.kind == RunKind.INVOICE else _("order"),
                "number": run.fortnox_document_number,
            },
            count,
        )
    reason = _automatic_pipeline_reason(caller)
    if reason:
        return CreateState(False, bool(count), reason, count)
    return CreateState(True, bool(count), "", count)


def _last_run_json(caller: CardCaller, can_act: bool) -> dict[str, Any] | None:
    run = _deal_runs(caller).order_by("-pk").first()
    if run is None:
        return None
    if run.is_finished:
        message, fix = _run_words(run)
    else:
        message, fix = _("Under way."), ""
    can_replay = (
        run.status == Run.Status.FAILED
        and not run_trigger_runs(run)
        .filter(status__in=[Run.Status.QUEUED, Run.Status.RUNNING, Run.Status.SUCCEEDED])
        .exists()
    )
    return {
        "id": run.pk,
        "kind": run.kind,
        "status": run.status,
        "trigger": str(TRIGGER_LABELS.get(run.trigger, run.trigger)),
        "finished_at": _moment(run.finished_at),
        "message": message,
        "fix": fix,
        "can_replay": can_replay and can_act,
    }


def deal_card(
    caller: CardCaller, can_act: bool, documents: list[figures.DocumentView] | None = None
) -> dict[str, Any]:
    installation = caller.installation
    action = _latest_action(caller)
    sync_settings = SyncSettings.objects.filter(installation=installation).first()
    default_type = sync_settings.card_document_type if sync_settings else RunKind.INVOICE
    answer: dict[str, Any] = {
        "kind": "deal",
        "state": "ready",
        "can_act": can_act,
        "busy": bool(action and action.status == CardAction.Status.RUNNING),
        "settings_url": _settings_url(installation),
        "documents": [],
        "last_run": _last_run_json(caller, can_act),
        "create": {"allowed": False, "again": False, "default_type": default_type, "reason": ""},
        "message": "",
        "fix": "",
        "outcome": _outcome(action),
    }
    if installation.active_fortnox_connection() is None:
        answer.update(
            state="not_connected",
            message=_("Fortnox is not connected to this HubSpot account."),
            fix=_("Connect Fortnox on the app's settings page."),
        )
        answer["create"]["reason"] = answer["message"]
        return answer
    if documents is None:
        try:
            documents = figures.deal_documents_get(installation, caller.object_id)
        except figures.FiguresUnavailable as exc:
            documents = []
            answer.update(message=exc.message, fix=exc.fix)
    answer["documents"] = [document_json(d) for d in documents]
    state = _create_state(caller, documents)
    if not can_act:
        reason = _("Only users allowed to use the card's buttons can create documents.")
        state = CreateState(False, state.again, state.reason or reason, state.cancelled_count)
    answer["create"].update(allowed=state.allowed, again=state.again, reason=state.reason)
    return answer


def deal_create(caller: CardCaller, document_type: str | None) -> dict[str, Any]:
    """Create now / Create again: one document, whatever the clicks. The deal's documents are
    read fresh from Fortnox first, so a draft cancelled a moment ago counts as cancelled."""
    installation = caller.installation
    if installation.active_fortnox_connection() is None:
        raise CardRefused(409, deal_card(caller, can_act=True))  # its message says so
    made = (
        _deal_runs(caller).filter(status=Run.Status.SUCCEEDED).exclude(fortnox_document_number="")
    )
    try:
        # Only a document the app made can have been cancelled since: none, no Fortnox call.
        documents = (
            figures.deal_documents_refresh(installation, caller.object_id) if made.exists() else []
        )
    except (figures.FiguresUnavailable, IntegrationError) as exc:
        answer = deal_card(caller, can_act=True)
        answer.update(
            message=_("The app could not read the deal's documents from Fortnox: %(why)s")
            % {"why": exc.message},
            fix=getattr(exc, "fix", "") or _("Try again in a few minutes."),
        )
        raise CardRefused(409, answer) from None
    state = _create_state(caller, documents)
    if not state.allowed:
        answer = deal_card(caller, can_act=True, documents=documents)
        answer["message"] = answer["create"]["reason"] or state.reason
        raise CardRefused(409, answer)
    sync_settings = SyncSettings.objects.filter(installation=installation).first()
    kind = document_type or (sync_settings.card_document_type if sync_settings else "invoice")
    run = run_create(
        installation,
        subject_type=SubjectType.DEAL,
        subject_id=caller.object_id,
        kind=kind,
        trigger=Run.Trigger.CARD,
        # One key per generation of the deal's document: two clicks at once share it, so the
        # runs' unique constraint lets one through; after a cancel in Fortnox the next one.
        trigger_key=f"card:{state.cancelled_count}",
    )
    if run is None:
        answer = deal_card(caller, can_act=True, documents=documents)
        answer["message"] = _(
            "Another press is creating the deal's Fortnox document at this moment; no second "
            "one is made."
        )
        raise CardRefused(409, answer)
    action = _action_start(caller, CardAction.Action.CREATE, run)
    action = _wait(action, time.monotonic() + WAIT_S)
    if action.status == CardAction.Status.SUCCEEDED:
        # Show the new document as Fortnox has it (its status, total and balance).
        try:
            documents = figures.deal_documents_refresh(installation, caller.object_id)
        except (figures.FiguresUnavailable, IntegrationError) as exc:
            logger.warning(
                "the new document was not read back for the card",
                extra={"portal": installation.hub_id, "run_id": run.pk, "error": str(exc)},
            )
            documents = None
        return deal_card(caller, can_act=True, documents=documents)
    return deal_card(caller, can_act=True)


def deal_replay(caller: CardCaller, run_id: int) -> dict[str, Any]:
    run = _deal_runs(caller).select_related("installation").filter(pk=run_id).first()
    if run is None:
        raise CardRefused(
            404,
            {
                "error": "no such run",
                "message": _("Run %(run)s is not a run of this deal.") % {"run": run_id},
            },
        )
    if run.status != Run.Status.FAILED:
        answer = deal_card(caller, can_act=True)
        answer["message"] = _("Run %(run)s did not fail; there is nothing to replay.") % {
            "run": run.pk
        }
        raise CardRefused(409, answer)
    new, text = run_replay(run)
    if new is None:
        answer = deal_card(caller, can_act=True)
        answer["message"] = text
        raise CardRefused(409, answer)
    action = _action_start(caller, CardAction.Action.REPLAY, new)
    _wait(action, time.monotonic() + WAIT_S)
    return deal_card(caller, can_act=True)


def deal_sync(caller: CardCaller) -> dict[str, Any]:
    if _running_press(caller) is None:
        action = _refresh_start(caller)
        _wait(action, time.monotonic() + WAIT_S)
    return deal_card(caller, can_act=True)
