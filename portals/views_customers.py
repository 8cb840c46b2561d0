"""The Customers tab: which record of a deal becomes the Fortnox customer, and the optional
matching rules (sync/customers.py applies them). The fixed rules are explained on the page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portals.access import form_tab
from portals.history import model_update_recorded
from portals.tabs import settings_render
from sync.models import SyncSettings

SECTION = "Customers"


class CustomersForm(forms.Form):
    customer_preference = forms.ChoiceField(
        label=gettext_lazy("The Fortnox customer of a deal"),
        choices=[
            (
                SyncSettings.CustomerPreference.COMPANY,
                gettext_lazy("The deal's company; its contact when it has no company"),
            ),
            (
                SyncSettings.CustomerPreference.CONTACT,
                gettext_lazy("The deal's contact; its company when it has no contact"),
            ),
        ],
        widget=forms.RadioSelect,
    )
    match_by_name = forms.BooleanField(
        label=gettext_lazy("Match a company by its exact name"),
        required=False,
        help_text=gettext_lazy(
            "For a company without organisation or VAT number: use the Fortnox company customer "
            "with exactly its name, when exactly one has it and no number disagrees. Off: such "
            "a company always becomes a new Fortnox customer."
        ),
    )
    match_contact_by_email = forms.BooleanField(
        label=gettext_lazy("Match a contact by e-mail"),
        required=False,
        help_text=gettext_lazy(
            "Use the Fortnox private customer with the contact's e-mail address. Off: a contact "
            "without a Fortnox customer number becomes a new Fortnox customer."
        ),
    )


def _page(request: HttpRequest, data=None) -> HttpResponse:
    installation = request.installation
    sync_settings, _created = SyncSettings.objects.get_or_create(installation=installation)
    initial = {name: getattr(sync_settings, name) for name in CustomersForm.base_fields}
    form = CustomersForm(data, initial=initial)
    if data is not None and form.is_valid():
        model_update_recorded(
            sync_settings,
            form.cleaned_data,
            installation=installation,
            access=request.access,
            section=SECTION,
        )
        messages.success(request, _("Saved."))
        return redirect("settings-customers", hub_id=installation.hub_id)
    return settings_render(
        request,
        "customers",
        "portals/settings/customers.html",
        {"form": form},
        status=400 if data is not None else 200,
    )


customers_settings = form_tab(_page)
