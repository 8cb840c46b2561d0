"""The Usage tab's forms: the portal owner's billing details and a request to upgrade. Each
message names the field and the fix."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from billing.models import Plan
from sync.countries import EU_MEMBERS
from sync.customers import organisation_number

# EU VAT number prefixes: the member states' ISO codes, but Greece is "EL", and Northern
# Ireland's "XI".
EU_VAT_PREFIXES = (EU_MEMBERS - {"GR"}) | {"EL", "XI"}
VAT_NUMBER = re.compile(r"^([A-Z]{2})([0-9A-Z+*]{2,13})$")


def luhn_ok(digits: str) -> bool:
    """The check digit of a Swedish organisation (or personal) number: Luhn over ten digits."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def swedish_organisation_number(raw: str) -> str | None:
    """NNNNNN-NNNN (sync/customers.py's canonical form) when the checksum holds, else None."""
    number = organisation_number(raw)
    if not number or not luhn_ok(number.replace("-", "")):
        return None
    return number


def eu_vat_number(raw: str) -> str | None:
    """The VAT number in capitals without spaces when it starts with an EU country code."""
    value = re.sub(r"[\s.-]", "", raw).upper()
    match = VAT_NUMBER.match(value)
    if not match or match.group(1) not in EU_VAT_PREFIXES:
        return None
    return value


class BillingDetailsForm(forms.Form):
    legal_name = forms.CharField(
        label=_("Legal name"),
        max_length=200,
        help_text=_("The company's registered name, as on its invoices."),
        error_messages={
            "required": _("Legal name: enter the company's registered name."),
            "max_length": _("Legal name: shorten it to at most 200 characters."),
        },
    )
    organisation_number = forms.CharField(
        label=_("Organisation number"),
        required=False,
        max_length=20,
        help_text=_("Swedish companies: NNNNNN-NNNN. Leave empty when you give a VAT number."),
    )
    vat_number = forms.CharField(
        label=_("EU VAT number"),
        required=False,
        max_length=20,
        help_text=_(
            "Companies outside Sweden in the EU: the country code and number, e.g. DE123456789."
        ),
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=200,
        error_messages={"required": _("Address: enter the street address invoices go to.")},
    )
    zip_code = forms.CharField(
        label=_("Postcode"),
        max_length=20,
        error_messages={"required": _("Postcode: enter the address's postcode.")},
    )
    city = forms.CharField(
        label=_("City"),
        max_length=100,
        error_messages={"required": _("City: enter the address's city.")},
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        initial="SE",
        help_text=_("Two letters (ISO 3166), e.g. SE for Sweden."),
        error_messages={"required": _("Country: enter two letters, e.g. SE for Sweden.")},
    )
    invoice_email = forms.EmailField(
        label=_("Invoice e-mail"),
        help_text=_("Where the invoices and statements are sent."),
        error_messages={
            "required": _("Invoice e-mail: enter the address invoices are sent to."),
            "invalid": _("Invoice e-mail: enter a whole e-mail address, e.g. ekonomi@example.se."),
        },
    )

    def disable_all(self) -> None:
        for field in self.fields.values():
            field.disabled = True

    def clean_organisation_number(self) -> str:
        raw = self.cleaned_data.get("organisation_number", "").strip()
        if not raw:
            return ""
        number = swedish_organisation_number(raw)
        if number is None:
            raise forms.ValidationError(
                _(
                    "Organisation number: %(value)s is not a Swedish organisation number. Enter "
                    "ten digits as NNNNNN-NNNN, as on the registration certificate (the last "
                    "digit is a check digit), or leave it empty and give an EU VAT number."
                ),
                params={"value": raw},
            )
        return number

    def clean_vat_number(self) -> str:
        raw = self.cleaned_data.get("vat_number", "").strip()
        if not raw:
            return ""
        number = eu_vat_number(raw)
        if number is None:
            raise forms.ValidationError(
                _(
                    "EU VAT number: %(value)s is not an EU VAT number. Enter the country code "
                    "and the number, e.g. DE123456789."
                ),
                params={"value": raw},
            )
        return number

    def clean_country(self) -> str:
        value = self.cleaned_data.get("country", "").strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise forms.ValidationError(
                _("Country: enter two letters (ISO 3166), e.g. SE for Sweden.")
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not data.get("organisation_number") and not data.get("vat_number"):
            self.add_error(
                "organisation_number",
                _(
                    "Organisation number: enter the Swedish organisation number (NNNNNN-NNNN), "
                    "or an EU VAT number for a company outside Sweden."
                ),
            )
        return data


class UpgradeRequestForm(forms.Form):
    wanted_plan = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.none(),
        empty_label=None,
        error_messages={
            "required": _("Plan: choose the plan you want."),
            "invalid_choice": _("Plan: choose one of the plans in the list."),
        },
    )
    message = forms.CharField(
        label=_("Message (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Message: shorten it to at most 2,000 characters.")},
    )

    def __init__(self, *args: Any, current: Plan | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "upgrade")
        super().__init__(*args, **kwargs)
        plans = Plan.objects.filter(active=True)
        if current is not None:
            plans = plans.exclude(pk=current.pk).filter(monthly_quota__gt=current.monthly_quota)
        self.fields["wanted_plan"].queryset = plans.order_by("monthly_quota")
        self.fields["wanted_plan"].label_from_instance = plan_label


def plan_label(plan: Plan) -> str:
    """ "Pro: 2000 documents a month, 2900.00 SEK" in the page's language."""
    return _("%(name)s: %(quota)s documents a month, %(price)s %(currency)s") % {
        "name": plan.name,
        "quota": plan.monthly_quota,
        "price": number_format(plan.price, 2),
        "currency": plan.currency,
    }
