"""Billing for staff (issue 17): plans, each portal's plan, the usage records (read-only, per
portal and period) and credits. A count made in error is credited, with who and why; a usage
record is never deleted."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from billing.forms_vendor import VendorInvoicePeriodForm
from billing.models import (
    BillingDetails,
    Plan,
    PortalPlan,
    QuotaNotice,
    QuotaReservation,
    UpgradeRequest,
    UsageCredit,
    UsageRecord,
    VendorFortnoxConnection,
    VendorInvoice,
)
from billing.vendor_fortnox import vendor_fortnox_disconnect
from billing.vendor_invoices import VendorInvoiceRefused, period_name, vendor_invoice_create
from billing.views_statement import statement_admin_url


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "monthly_quota", "price", "currency", "is_default", "active"]
    list_editable = ["monthly_quota", "price", "active"]
    prepopulated_fields = {"code": ["name"]}

    def save_model(self, request, obj, form, change) -> None:
        with transaction.atomic():
            if obj.is_default:  # one default plan only
                Plan.objects.exclude(pk=obj.pk).filter(is_default=True).update(is_default=False)
            super().save_model(request, obj, form, change)


@admin.register(PortalPlan)
class PortalPlanAdmin(admin.ModelAdmin):
    list_display = ["installation", "plan", "changed_at", "changed_by"]
    list_filter = ["plan"]
    search_fields = ["installation__hub_id", "installation__hub_domain"]
    raw_id_fields = ["installation"]
    readonly_fields = ["changed_at", "changed_by"]

    actions = ["vendor_invoices_create"]

    def save_model(self, request, obj, form, change) -> None:
        obj.changed_at = timezone.now()
        obj.changed_by = request.user.get_username()
        super().save_model(request, obj, form, change)

    @admin.action(description="Create the vendor's draft Fortnox invoices")
    def vendor_invoices_create(self, request, queryset):
        """Per chosen portal, the draft invoice of an ended period in the vendor's Fortnox
        company (billing/vendor_invoices.py); each portal's outcome in a message."""
        form = VendorInvoicePeriodForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return TemplateResponse(
                request,
                "admin/billing/vendor_invoices_create.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Create the vendor's draft Fortnox invoices",
                    "portal_plans": queryset.select_related("installation", "plan"),
                    "form": form,
                    "opts": self.model._meta,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        period = form.cleaned_data["period"]
        who = request.user.get_username()
        for portal_plan in queryset.select_related("installation"):
            installation = portal_plan.installation
            prefix = f"Portal {installation.hub_id}, {period_name(period)}:"
            try:
                result = vendor_invoice_create(installation, period, requested_by=who)
            except VendorInvoiceRefused as exc:
                self.message_user(
                    request, f"{prefix} refused. {exc.message} {exc.fix}", messages.WARNING
                )
                continue
            invoice = result.invoice
            if result.failed:
                self.message_user(
                    request,
                    f"{prefix} failed. {invoice.error_message} {invoice.error_fix} "
                    "Run the action again to retry (it looks the invoice up first).",
                    messages.ERROR,
                )
            elif result.already:
                self.message_user(
                    request,
                    f"{prefix} already created (Fortnox invoice {invoice.document_number}); "
                    "nothing sent.",
                    messages.INFO,
                )
            else:
                self.message_user(
                    request,
                    f"{prefix} created draft Fortnox invoice {invoice.document_number}, total "
                    f"{invoice.total} {invoice.currency}.",
                    messages.SUCCESS,
                )
        return None


class CreditForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Why these documents should not count (kept with the credit).",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give the reason for the credit.")
        return reason


class CreditedFilter(admin.SimpleListFilter):
    title = "credited"
    parameter_name = "credited"

    def lookups(self, request, model_admin):
        return [("yes", "Credited"), ("no", "Counted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(credit__isnull=False)
        if self.value() == "no":
            return queryset.filter(credit__isnull=True)
        return queryset


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "counted_at",
        "portal",
        "period",
        "kind",
        "document_number",
        "deal_id",
        "deal_name",
        "total",
        "currency",
        "run",
        "credited",
        "statement",
    ]
    list_filter = ["period", "kind", CreditedFilter, "installation__hub_id"]
    search_fields = ["installation__hub_id", "document_number", "deal_id", "deal_name"]
    date_hierarchy = "counted_at"
    actions = ["credit"]
    list_select_related = ["installation", "credit"]

    @admin.display(description="portal", ordering="installation__hub_id")
    def portal(self, record: UsageRecord) -> int:
        return record.installation.hub_id

    @admin.display(description="statement")
    def statement(self, record: UsageRecord) -> str:
        """The portal's statement PDF of the record's month (billing/views_statement.py)."""
        url = statement_admin_url(record.installation.hub_id, f"{record.period:%Y-%m}")
        return format_html('<a href="{}">PDF {}</a>', url, f"{record.period:%Y-%m}")

    @admin.display(description="credited", boolean=True)
    def credited(self, record: UsageRecord) -> bool:
        return UsageCredit.objects.filter(usage=record).exists()

    def get_actions(self, request):
        # Django offers "delete selected" to whoever may delete; nobody may here, but be plain.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Credit the selected documents (they stop counting)")
    def credit(self, request, queryset):
        form = CreditForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            who = request.user.get_username()
            made = 0
            with transaction.atomic():
                chosen = UsageRecord.objects.filter(
                    pk__in=list(queryset.values_list("pk", flat=True))
                )
                for record in chosen.select_for_update(of=("self",)).filter(credit__isnull=True):
                    UsageCredit.objects.create(
                        usage=record, reason=form.cleaned_data["reason"], credited_by=who
                    )
                    made += 1
            skipped = queryset.count() - made
            text = f"Credited {made} document(s)."
            if skipped:
                text += f" {skipped} already credited, left as they were."
            self.message_user(request, text, messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/billing/usage_credit.html",
            {
                **self.admin_site.each_context(request),
                "title": "Credit documents",
                "records": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(UsageCredit)
class UsageCreditAdmin(ReadOnlyAdmin):
    list_display = ["credited_at", "usage", "credited_by", "reason"]
    search_fields = ["usage__installation__hub_id", "usage__document_number", "credited_by"]


@admin.register(QuotaReservation)
class QuotaReservationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "installation", "period", "run"]
    list_filter = ["period"]


@admin.register(QuotaNotice)
class QuotaNoticeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "installation", "period", "percent", "deal_id"]
    list_filter = ["period", "percent"]


@admin.register(BillingDetails)
class BillingDetailsAdmin(admin.ModelAdmin):
    list_display = ["installation", "legal_name", "organisation_number", "invoice_email"]
    search_fields = ["installation__hub_id", "legal_name", "organisation_number"]


@admin.register(UpgradeRequest)
class UpgradeRequestAdmin(admin.ModelAdmin):
    list_display = ["requested_at", "installation", "wanted_plan", "requested_by", "handled_at"]
    list_filter = ["handled_at", "wanted_plan"]


@admin.register(VendorFortnoxConnection)
class VendorFortnoxConnectionAdmin(ReadOnlyAdmin):
    """The vendor's own Fortnox company: connected through Fortnox's consent (the link on the
    list), never typed in; disconnected rows stay as history."""

    change_list_template = "admin/billing/vendorfortnoxconnection/change_list.html"
    list_display = [
        "company_name",
        "organisation_number",
        "database_number",
        "status",
        "connected_by",
        "connected_at",
        "disconnected_at",
        "last_problem",
    ]
    exclude = ["access_token", "refresh_token"]
    actions = ["disconnect"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Disconnect (revoke the tokens; the row stays as history)")
    def disconnect(self, request, queryset):
        live = queryset.exclude(status=VendorFortnoxConnection.Status.DISCONNECTED)
        for connection in live:
            vendor_fortnox_disconnect(connection, reason=f"by {request.user.get_username()}")
            self.message_user(
                request,
                f"Disconnected the vendor's Fortnox company {connection.company_name}.",
                messages.SUCCESS,
            )


@admin.register(VendorInvoice)
class VendorInvoiceAdmin(ReadOnlyAdmin):
    """The vendor's draft invoices to portals: one per portal and period, never deleted."""

    list_display = [
        "portal",
        "period",
        "status",
        "document_number",
        "fortnox_customer_number",
        "total",
        "currency",
        "used",
        "error_message",
        "requested_by",
        "requested_at",
    ]
    list_filter = ["status", "period"]
    search_fields = ["installation__hub_id", "document_number", "external_reference"]
    list_select_related = ["installation"]

    @admin.display(description="portal", ordering="installation__hub_id")
    def portal(self, invoice: VendorInvoice) -> int:
        return invoice.installation.hub_id

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
