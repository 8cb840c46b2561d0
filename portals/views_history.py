"""The History tab: every settings change of the portal (who, when, setting, old → new), newest
first, a page at a time."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portals.access import settings_page
from portals.formatting import when
from portals.models import SettingsChange
from portals.tabs import TABS, settings_render

CHANGES_PER_PAGE = 50


def _section_labels() -> dict[str, str]:
    labels = {key: str(label) for key, _url_name, label in TABS}
    labels["connection"] = _("Connection")
    return labels


def _who(change: SettingsChange) -> str:
    if change.email:
        return change.email
    return _("HubSpot user %(id)s") % {"id": change.user_id} if change.user_id else "—"


def _value(value: str) -> str:
    # portals/history.shown() writes switches as "on"/"off" whatever the page's language.
    return {"on": _("on"), "off": _("off")}.get(value, value)


@never_cache
@require_GET
@settings_page
def history_tab(request: HttpRequest, hub_id: int) -> HttpResponse:
    changes = SettingsChange.objects.filter(installation=request.installation).order_by(
        "-at", "-id"
    )
    page = Paginator(changes, CHANGES_PER_PAGE).get_page(request.GET.get("page"))
    sections = _section_labels()
    rows = [
        {
            "when": when(change.at),
            "who": _who(change),
            "section": sections.get(change.section, change.section),
            "setting": change.setting,
            "old": _value(change.old_value),
            "new": _value(change.new_value),
        }
        for change in page.object_list
    ]
    return settings_render(
        request, "history", "portals/settings/history.html", {"page": page, "rows": rows}
    )
