"""Run history and sync settings for support staff, with Replay."""

from django import forms
from django.contrib import admin, messages

from sync.mapping import validate_mappings
from sync.models import (
    ArticleMapping,
    BulkSync,
    CustomerMapping,
    Delivery,
    DeliveryAttempt,
    InboundRejection,
    PipelineSetting,
    Run,
    RunStep,
    SyncSettings,
    WebhookEvent,
)
from sync.replay import run_replay


class PipelineSettingInline(admin.TabularInline):
    model = PipelineSetting
    extra = 0


class SyncSettingsForm(forms.ModelForm):
    class Meta:
        model = SyncSettings
        fields = [
            "installation",
            "auto_create",
            "article_search",
            "not_found_policy",
            "default_article_number",
            "no_line_items_policy",
            "field_mappings",
        ]

    def clean_field_mappings(self):
        """Each mapping is checked against Fortnox's field rules; problems show on the form."""
        mappings = self.cleaned_data["field_mappings"]
        problems = validate_mappings(mappings)
        if problems:
            raise forms.ValidationError(problems)
        return mappings


@admin.register(SyncSettings)
class SyncSettingsAdmin(admin.ModelAdmin):
    form = SyncSettingsForm
    list_display = ("installation", "auto_create", "article_search", "not_found_policy")
    inlines = [PipelineSettingInline]


class AuditTrailAdmin(admin.ModelAdmin):
    """Runs, their steps, webhook events and deliveries are the audit trail of what the app did
    with a customer's money: staff read them, never edit or delete them here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RunStepInline(admin.TabularInline):
    model = RunStep
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    readonly_fields = (
        "at",
        "attempt",
        "kind",
        "service",
        "method",
        "path",
        "status",
        "duration_ms",
        "message",
    )


@admin.register(Run)
class RunAdmin(AuditTrailAdmin):
    list_display = (
        "pk",
        "installation",
        "subject_type",
        "subject_id",
        "kind",
        "trigger",
        "status",
        "fortnox_document_number",
        "attempts",
        "created_at",
    )
    list_filter = ("status", "trigger", "kind", "subject_type")
    search_fields = ("subject_id", "fortnox_document_number", "installation__hub_id")
    inlines = [RunStepInline]
    actions = ["replay"]

    @admin.action(description="Replay the selected failed runs")
    def replay(self, request, queryset):
        for run in queryset:
            _new, message = run_replay(run)
            messages.info(request, f"Run {run.pk}: {message}")


@admin.register(WebhookEvent)
class WebhookEventAdmin(AuditTrailAdmin):
    list_display = (
        "received_at",
        "hub_id",
        "subscription_type",
        "object_id",
        "property_value",
        "outcome",
    )
    list_filter = ("subscription_type",)
    search_fields = ("object_id", "hub_id")


@admin.register(InboundRejection)
class InboundRejectionAdmin(AuditTrailAdmin):
    """Signed requests from HubSpot (or events of them) that could not be used, and why."""

    list_display = ("received_at", "kind", "hub_id", "event_index", "reason")
    list_filter = ("kind",)
    search_fields = ("hub_id", "reason", "request_id")
    date_hierarchy = "received_at"


admin.site.register(CustomerMapping)


@admin.register(ArticleMapping)
class ArticleMappingAdmin(admin.ModelAdmin):
    list_display = (
        "hubspot_product_id",
        "fortnox_article_number",
        "fortnox_database_number",
        "active",
        "installation",
        "updated_at",
    )
    list_filter = ("active",)
    search_fields = ("hubspot_product_id", "fortnox_article_number")


@admin.register(BulkSync)
class BulkSyncAdmin(AuditTrailAdmin):
    """Bulk syncs started on the settings page: support reads their scope and progress (the
    runs with trigger key "bulk:<id>" are the records)."""

    list_display = (
        "pk",
        "installation",
        "object_type",
        "scope",
        "status",
        "total",
        "queued",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "object_type")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("at", "outcome", "status_code", "error", "duration_ms")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(AuditTrailAdmin):
    """What the app sent (or could not send) to HubSpot after each run. Read-only and never
    deleted: it is the record of what the user was told."""

    list_display = (
        "pk",
        "installation",
        "run",
        "kind",
        "status",
        "record_key",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "gave_up_reason",
    )
    list_filter = ("status", "kind")
    list_select_related = ("installation", "run")
    search_fields = ("record_key", "installation__hub_id", "run__id", "gave_up_reason")
    inlines = [DeliveryAttemptInline]
