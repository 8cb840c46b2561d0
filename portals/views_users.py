"""The Users tab: who may change the settings, and (for super admins) allowing more users."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portals.access import PortalAccess, edit_required, read_only_refusal, settings_page
from portals.editors import (
    EditorRefused,
    portal_editor_add,
    portal_editor_remove,
    portal_users_overview,
)
from portals.tabs import settings_render


class EditorAddForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail of the HubSpot user"),
        max_length=254,
        help_text=gettext_lazy(
            "The address the user signs in to HubSpot with. They may then change every setting "
            "on this page, connect and disconnect Fortnox."
        ),
        error_messages={
            "required": gettext_lazy("Enter the user's e-mail address."),
            "invalid": gettext_lazy("Enter a whole e-mail address, such as name@company.se."),
        },
    )


def _manage_refusal(request: HttpRequest, access: PortalAccess) -> HttpResponse | None:
    if access.can_manage_users:
        return None
    if access.can_edit:
        access = PortalAccess(
            hub_id=access.hub_id,
            user_id=access.user_id,
            email=access.email,
            can_edit=False,
            read_only_reason=_("Only super admins of the HubSpot account can allow users."),
        )
    return read_only_refusal(request, access)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@settings_page
def users_tab(request: HttpRequest, hub_id: int) -> HttpResponse:
    form = EditorAddForm()
    if request.method == "POST":
        return _editor_add(request, hub_id)
    return _render(request, form)


@edit_required
def _editor_add(request: HttpRequest, hub_id: int) -> HttpResponse:
    refusal = _manage_refusal(request, request.access)
    if refusal:
        return refusal
    form = EditorAddForm(request.POST)
    if form.is_valid():
        try:
            editor = portal_editor_add(
                request.installation, request.access, form.cleaned_data["email"]
            )
        except EditorRefused as refused:
            form.add_error("email", refused.message)
        else:
            messages.success(
                request, _("%(email)s may now change the settings.") % {"email": editor.email}
            )
            return redirect("settings-users", hub_id=hub_id)
    return _render(request, form, status=400)


@never_cache
@require_POST
@settings_page
@edit_required
def editor_remove(request: HttpRequest, hub_id: int, editor_id: int) -> HttpResponse:
    refusal = _manage_refusal(request, request.access)
    if refusal:
        return refusal
    email = portal_editor_remove(request.installation, request.access, editor_id)
    if email:
        messages.success(
            request, _("%(email)s may no longer change the settings.") % {"email": email}
        )
    return redirect("settings-users", hub_id=hub_id)


def _render(request: HttpRequest, form: EditorAddForm, *, status: int = 200) -> HttpResponse:
    return settings_render(
        request,
        "users",
        "portals/settings/users.html",
        {"form": form, "overview": portal_users_overview(request.installation)},
        status=status,
    )
