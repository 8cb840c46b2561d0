"""The Usage tab: documents counted this period against the plan's quota, the counted documents
(deal and Fortnox document, linked as on the Runs tab), earlier periods, the monthly statement
as a PDF, Request upgrade (editors) and the portal owner's billing details (super admins)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from billing.forms import BillingDetailsForm, UpgradeRequestForm
from billing.models import BillingDetails, Plan
from billing.services import current_period, portal_plan, usage_periods, usage_summary
from billing.statements import (
    period_parse,
    record_credit,
    statement_filename,
    statement_pdf,
)
from portals.access import PortalAccess, edit_required, settings_page
from portals.services_usage import (
    DETAIL_FIELDS,
    billing_details_missing,
    billing_details_save,
    upgrade_request_create,
)
from portals.tabs import settings_render
from sync.links import deal_link, fortnox_document_link, hubspot_ui_domain
from sync.run_words import KIND_LABELS

NOTICE_LEVELS = (100, 80)


def _details_reason(access: PortalAccess) -> str:
    """Why this user may not change the billing details ("" when they may)."""
    if access.role == "super_admin":
        return ""
    if access.staff:
        return access.read_only_reason
    return _(
        "Only a super admin of this HubSpot account can change the billing details: they "
        "decide who pays."
    )


def _details_form(request: HttpRequest, data=None) -> BillingDetailsForm:
    if data is not None:
        form = BillingDetailsForm(data)
    else:
        details = BillingDetails.objects.filter(installation=request.installation).first()
        initial = {name: getattr(details, name) for name in DETAIL_FIELDS} if details else None
        form = BillingDetailsForm(initial=initial)
    if _details_reason(request.access):
        form.disable_all()
    return form


def _period_or_404(value: str) -> date:
    period = period_parse(value)
    if period is None:
        raise Http404(_("%(value)s is not a month: write it as YYYY-MM.") % {"value": value})
    return period


def _show(
    request: HttpRequest,
    *,
    period: date | None = None,
    details_form: BillingDetailsForm | None = None,
    upgrade_form: UpgradeRequestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    installation = request.installation
    this_period = current_period()
    period = period or this_period
    summary = usage_summary(installation, period)
    plan = portal_plan(installation)
    periods = usage_periods(installation)
    if this_period not in periods:
        periods = [this_period, *periods]
    if period not in periods:
        periods = sorted([*periods, period], reverse=True)
    ui_domain = hubspot_ui_domain(installation) if summary.records else ""
    rows = [
        {
            "record": record,
            "credit": record_credit(record),
            "kind_label": KIND_LABELS.get(record.kind, record.kind),
            "deal_url": deal_link(installation, record.deal_id, ui_domain),
            "document_url": fortnox_document_link(
                installation, record.kind, record.document_number
            ),
        }
        for record in summary.records
    ]
    is_current = period == this_period
    notice = next(
        (level for level in NOTICE_LEVELS if is_current and summary.percent >= level), None
    )
    upgrade_form = upgrade_form or UpgradeRequestForm(current=plan)
    return settings_render(
        request,
        "usage",
        "portals/settings/usage.html",
        {
            "summary": summary,
            "plan": plan,
            "period": period,
            "is_current": is_current,
            "periods": periods,
            "rows": rows,
            "notice": notice,
            "details_form": details_form or _details_form(request),
            "details_reason": _details_reason(request.access),
            "details_missing": billing_details_missing(installation),
            "upgrade_form": upgrade_form,
            "can_upgrade": request.access.can_edit
            and upgrade_form.fields["wanted_plan"].queryset.exists(),
            "statement_url": reverse(
                "settings-usage-statement",
                kwargs={"hub_id": installation.hub_id, "period": f"{period:%Y-%m}"},
            ),
        },
        status=status,
    )


@never_cache
@require_GET
@settings_page
def usage_tab(request: HttpRequest, hub_id: int) -> HttpResponse:
    chosen = request.GET.get("period", "")
    period = _period_or_404(chosen) if chosen else None
    return _show(request, period=period)


@never_cache
@require_POST
@settings_page
def billing_details_view(request: HttpRequest, hub_id: int) -> HttpResponse:
    reason = _details_reason(request.access)
    if reason:
        return render(
            request,
            "portals/problem.html",
            {
                "title": _("You can see the billing details but not change them"),
                "message": reason,
                "fix": _("Ask a super admin of the HubSpot account to fill them in."),
                "retry_url": reverse("settings-usage", kwargs={"hub_id": hub_id}),
            },
            status=403,
        )
    form = _details_form(request, request.POST)
    if not form.is_valid():
        return _show(request, details_form=form, status=400)
    changed = billing_details_save(request.installation, request.access, form.cleaned_data)
    messages.success(
        request,
        _("Billing details saved.") if changed else _("Billing details saved: nothing changed."),
    )
    return redirect(f"{reverse('settings-usage', kwargs={'hub_id': hub_id})}#billing-details")


@never_cache
@require_POST
@settings_page
@edit_required
def upgrade_request_view(request: HttpRequest, hub_id: int) -> HttpResponse:
    current: Plan = portal_plan(request.installation)
    form = UpgradeRequestForm(request.POST, current=current)
    if not form.is_valid():
        return _show(request, upgrade_form=form, status=400)
    plan = form.cleaned_data["wanted_plan"]
    upgrade_request_create(
        request.installation, request.access, plan, form.cleaned_data["message"], current
    )
    messages.success(
        request,
        _(
            "Upgrade to %(plan)s requested. Our staff have been told and will change your plan; "
            "the new quota applies at once."
        )
        % {"plan": plan.name},
    )
    return redirect(reverse("settings-usage", kwargs={"hub_id": hub_id}))


@never_cache
@require_GET
@settings_page
def statement_view(request: HttpRequest, hub_id: int, period: str) -> HttpResponse:
    month = _period_or_404(period)
    language = "sv" if (get_language() or "").startswith("sv") else "en"
    return pdf_response(
        statement_pdf(request.installation, month, language),
        statement_filename(request.installation, month),
    )


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
