"""The General tab: the language of notes and documents, a HubSpot task on failure, and the
app cards' settings (who may press their buttons, what Create now makes)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portals.access import edit_required, settings_page
from portals.forms_sync import GeneralForm
from portals.services_general import general_settings_save
from portals.tabs import settings_render
from sync.models import RunKind, SyncSettings


def _show(request: HttpRequest, form: GeneralForm, status: int = 200) -> HttpResponse:
    if not request.access.can_edit:
        form.disable_all()
    return settings_render(
        request, "general", "portals/settings/general.html", {"form": form}, status=status
    )


@never_cache
@require_http_methods(["GET", "POST"])
@settings_page
def general_tab(request: HttpRequest, hub_id: int) -> HttpResponse:
    if request.method == "POST":
        return _general_save(request, hub_id)
    current = SyncSettings.objects.filter(installation=request.installation).first()
    initial = {
        "language": current.language if current else SyncSettings.Language.SWEDISH,
        "failure_task": current.failure_task if current else False,
        "card_actions": current.card_actions if current else SyncSettings.CardActions.ALLOW_LIST,
        "card_document_type": current.card_document_type if current else RunKind.INVOICE,
    }
    return _show(request, GeneralForm(initial=initial))


@edit_required
def _general_save(request: HttpRequest, hub_id: int) -> HttpResponse:
    form = GeneralForm(request.POST)
    if not form.is_valid():
        return _show(request, form, status=400)
    changed = general_settings_save(
        request.installation,
        request.access,
        language=form.cleaned_data["language"],
        failure_task=form.cleaned_data["failure_task"],
        card_actions=form.cleaned_data["card_actions"],
        card_document_type=form.cleaned_data["card_document_type"],
    )
    messages.success(request, _("Saved.") if changed else _("Saved: nothing changed."))
    return redirect("settings-general", hub_id=hub_id)
