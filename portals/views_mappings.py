"""The Field mappings tab: for each Fortnox field of the customer (from a company or a contact),
the document header and its rows, the HubSpot property that fills it, picked from the portal's
real properties. A mapping that can break Fortnox's rules is refused with the reason
(sync/mapping.py)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from integrations.errors import IntegrationError
from integrations.hubspot.subscriptions import property_subscriptions
from portals.access import form_tab
from portals.forms_mappings import TARGET_LABELS, MappingsForm, custom_from
from portals.history import settings_changes_record
from portals.registers import hubspot_properties_list
from portals.tabs import settings_render
from sync.mapping import TARGET_OBJECTS, TARGETS, allowed_punctuation, mappings_for
from sync.models import SyncSettings

SECTION = "Field mappings"
# The HubSpot project's webhook object type of each target's records.
WEBHOOK_OBJECTS = {
    "company": "company",
    "contact": "contact",
    "document": "deal",
    "row": "line_item",
}


def _automatic(effective: dict[str, dict[str, str]]) -> list[dict[str, object]]:
    """Per target, the mapped properties whose changes HubSpot sends to the app."""
    subscribed = property_subscriptions()
    shown = []
    for target in TARGETS:
        names = subscribed.get(WEBHOOK_OBJECTS[target], frozenset())
        mapped = sorted({p for p in effective[target].values() if p in names})
        if mapped:
            shown.append({"label": TARGET_LABELS[target], "properties": mapped})
    return shown


def _page(request: HttpRequest, data=None) -> HttpResponse:
    installation = request.installation
    sync_settings, _created = SyncSettings.objects.get_or_create(installation=installation)
    stored = sync_settings.field_mappings or {}
    effective = mappings_for(stored)
    try:
        listed = hubspot_properties_list(installation, list(dict.fromkeys(TARGET_OBJECTS.values())))
        hubspot_problem = ""
    except IntegrationError as exc:
        listed, hubspot_problem = None, f"{exc.message} {exc.fix}".strip()
    properties = (
        {target: {p["name"]: p for p in listed[TARGET_OBJECTS[target]]} for target in TARGETS}
        if listed is not None
        else None
    )
    form = MappingsForm(data, effective=effective, properties=properties)
    if data is not None and properties is None:
        form.add_error(None, _("The mappings were not saved: %(why)s") % {"why": hubspot_problem})
    elif data is not None and form.is_valid():
        custom = custom_from(form.cleaned_data)
        new_effective = mappings_for(custom)
        changes = [
            (
                f"{TARGET_LABELS[target]} · {fortnox_field}",
                effective[target].get(fortnox_field, ""),
                new_effective[target].get(fortnox_field, ""),
            )
            for target in TARGETS
            for fortnox_field in form.target_fields(target)
        ]
        with transaction.atomic():
            sync_settings.field_mappings = custom
            sync_settings.save(update_fields=["field_mappings", "updated_at"])
            settings_changes_record(installation, request.access, SECTION, changes)
        messages.success(request, _("Saved."))
        return redirect("settings-mappings", hub_id=installation.hub_id)
    return settings_render(
        request,
        "mappings",
        "portals/settings/mappings.html",
        {
            "form": form,
            "sections": form.sections(),
            "hubspot_problem": hubspot_problem,
            "automatic": _automatic(effective),
            "punctuation": allowed_punctuation(),
        },
        status=400 if data is not None else 200,
    )


mappings_settings = form_tab(_page)
