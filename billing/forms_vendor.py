"""Staff choose the ended period of the vendor's draft invoices (Django admin action)."""

from __future__ import annotations

import datetime

from django import forms

from billing.vendor_invoices import ended_periods, period_name


class VendorInvoicePeriodForm(forms.Form):
    period = forms.TypedChoiceField(
        label="Period",
        coerce=datetime.date.fromisoformat,
        help_text="An ended month (Swedish time); the last one is chosen.",
        error_messages={"invalid_choice": "Period: choose one of the ended months listed."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        periods = ended_periods()
        self.fields["period"].choices = [(p.isoformat(), period_name(p)) for p in periods]
        self.fields["period"].initial = periods[0].isoformat()
