"""The Overview tab: the set-up checklist, deals that reached a won stage of a pipeline not
added, and the connections (HubSpot, Fortnox) with their buttons."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from integrations.errors import IntegrationError
from portals.access import edit_required, settings_page
from portals.selectors import connection_status_get, deal_pipelines_read
from portals.selectors_setup import (
    setup_steps,
    stage_changes_not_synced,
    won_deals_in_pipelines_not_added,
)
from portals.services import hubspot_properties_create
from portals.tabs import settings_render


def _tab_url(name: str, hub_id: int) -> str:
    """A tab's URL, or "" while that tab is not on the page."""
    try:
        return reverse(name, kwargs={"hub_id": hub_id})
    except NoReverseMatch:
        return ""


def _step_links(hub_id: int) -> dict[str, tuple[str, str]]:
    overview = reverse("portal-settings", kwargs={"hub_id": hub_id})
    links = {
        "fortnox": (f"{overview}#fortnox", _("Connect Fortnox")),
        "properties": (f"{overview}#properties", _("Create the properties")),
    }
    for key, url_name, label in (
        ("pipeline", "settings-sync", _("Add a pipeline")),
        ("products", "settings-products", _("Open the Products settings")),
    ):
        url = _tab_url(url_name, hub_id)
        if url:
            links[key] = (url, label)
    return links


@never_cache
@require_GET
@settings_page
def portal_settings(request: HttpRequest, hub_id: int) -> HttpResponse:
    installation = request.installation
    steps = setup_steps(installation, _step_links(hub_id))
    not_synced, pipelines_problem = [], ""
    deals_by_stage = stage_changes_not_synced(installation)
    # HubSpot is asked for the pipelines only when some stage change started nothing.
    if deals_by_stage and installation.is_active:
        try:
            pipelines = deal_pipelines_read(installation)
        except IntegrationError as exc:
            pipelines_problem = exc.message
        else:
            not_synced = won_deals_in_pipelines_not_added(installation, pipelines, deals_by_stage)
    return settings_render(
        request,
        "overview",
        "portals/settings/overview.html",
        {
            "status": connection_status_get(installation),
            "steps": steps,
            "steps_done": sum(step.done for step in steps),
            "setup_done": all(step.done for step in steps),
            "not_synced": not_synced,
            "pipelines_problem": pipelines_problem,
            "sync_url": _tab_url("settings-sync", hub_id),
        },
    )


@never_cache
@require_GET
@settings_page
@edit_required
def fortnox_disconnect_confirm(request: HttpRequest, hub_id: int) -> HttpResponse:
    """What a disconnect does, before the button that does it."""
    return settings_render(
        request,
        "overview",
        "portals/settings/disconnect.html",
        {"connection": request.installation.active_fortnox_connection()},
    )


@never_cache
@require_POST
@settings_page
@edit_required
def hubspot_properties_create_view(request: HttpRequest, hub_id: int) -> HttpResponse:
    """Create the app's own HubSpot properties now (the install does it in the background; this
    is the fix when that did not happen)."""
    try:
        hubspot_properties_create(request.installation.pk)
    except IntegrationError as exc:
        messages.error(
            request,
            _("HubSpot did not create the properties: %(message)s %(fix)s")
            % {"message": exc.message, "fix": exc.fix},
        )
    else:
        messages.success(request, _("The app's properties are created in HubSpot."))
    return redirect("portal-settings", hub_id=hub_id)
