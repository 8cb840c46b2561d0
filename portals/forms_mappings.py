"""The Field mappings form: one choice of HubSpot property per Fortnox field and target."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sync.mapping import (
    CODED_FIELDS,
    DEFAULT_MAPPINGS,
    FIELD_MAX_LENGTH,
    TARGET_RULES,
    TARGETS,
    mapping_problems,
)

TARGET_LABELS = {
    "company": _("Customer, from the deal's company"),
    "contact": _("Customer, from the deal's contact"),
    "document": _("Document header, from the deal"),
    "row": _("Document rows, from the line items"),
}
CODE_HELP = {
    "country": _("A country: HubSpot's value may be a name in English or Swedish or an ISO code."),
    "vat_type": _("One of SEVAT, SEREVERSEDVAT, EUREVERSEDVAT, EUVAT, EXPORT."),
    "currency": _("A three-letter currency code, e.g. SEK."),
    "language": _("SV or EN."),
}


def field_name(target: str, fortnox_field: str) -> str:
    return f"{target}__{fortnox_field}"


def custom_from(cleaned: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What differs from the defaults ("" removes a default): what SyncSettings stores."""
    custom: dict[str, dict[str, str]] = {}
    for name, value in cleaned.items():
        target, _sep, fortnox_field = name.partition("__")
        if target not in TARGETS:
            continue
        if (value or "") != DEFAULT_MAPPINGS[target].get(fortnox_field, ""):
            custom.setdefault(target, {})[fortnox_field] = value or ""
    return custom


class MappingsForm(forms.Form):
    def __init__(
        self,
        data=None,
        *,
        effective: dict[str, dict[str, str]],
        properties: dict[str, dict[str, dict[str, Any]]] | None,
    ) -> None:
        super().__init__(data)
        self.properties = properties
        for target in TARGETS:
            listed = list((properties or {}).get(target, {}).values())
            for fortnox_field in self.target_fields(target):
                current = effective[target].get(fortnox_field, "")
                choices = [("", gettext("— not filled —"))] + [
                    (p["name"], f"{p['label']} ({p['name']})") for p in listed
                ]
                if current and current not in {p["name"] for p in listed}:
                    choices.append(
                        (current, gettext("%(name)s (not found in HubSpot)") % {"name": current})
                    )
                self.fields[field_name(target, fortnox_field)] = forms.CharField(
                    label=fortnox_field,
                    required=False,
                    initial=current,
                    widget=forms.Select(choices=choices),
                    help_text=self._limits(target, fortnox_field),
                )

    @staticmethod
    def target_fields(target: str) -> list[str]:
        return list(FIELD_MAX_LENGTH[TARGET_RULES[target]])

    @staticmethod
    def _limits(target: str, fortnox_field: str) -> str:
        rules = TARGET_RULES[target]
        coded = CODED_FIELDS.get((rules, fortnox_field))
        if coded:
            return str(CODE_HELP[coded])
        return gettext("Up to %(limit)s characters.") % {
            "limit": FIELD_MAX_LENGTH[rules][fortnox_field]
        }

    def sections(self) -> list[dict[str, Any]]:
        return [
            {
                "key": target,
                "label": TARGET_LABELS[target],
                "fields": [self[field_name(target, f)] for f in self.target_fields(target)],
            }
            for target in TARGETS
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.properties is not None:
            for target, fortnox_field, why in mapping_problems(custom_from(data), self.properties):
                self.add_error(
                    field_name(target, fortnox_field),
                    gettext("%(field)s: %(why)s") % {"field": fortnox_field, "why": why},
                )
        return data
