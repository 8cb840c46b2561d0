"""Staff views of installations and connections. Tokens are never shown."""

from django.contrib import admin

from integrations.models import FortnoxConnection, HubSpotInstallation

_TOKEN_FIELDS = ("access_token", "refresh_token")


class FortnoxConnectionInline(admin.TabularInline):
    model = FortnoxConnection
    exclude = _TOKEN_FIELDS
    readonly_fields = (
        "status",
        "company_name",
        "organisation_number",
        "database_number",
        "connected_at",
        "disconnected_at",
        "last_refreshed_at",
        "last_problem",
    )
    extra = 0
    can_delete = False


@admin.register(HubSpotInstallation)
class HubSpotInstallationAdmin(admin.ModelAdmin):
    list_display = (
        "hub_id",
        "hub_domain",
        "status",
        "installed_at",
        "last_refreshed_at",
        "last_problem",
    )
    list_filter = ("status",)
    search_fields = ("hub_id", "hub_domain", "installed_by_email")
    exclude = _TOKEN_FIELDS
    readonly_fields = ("access_token_expires_at", "last_refreshed_at", "scopes")
    inlines = [FortnoxConnectionInline]


@admin.register(FortnoxConnection)
class FortnoxConnectionAdmin(admin.ModelAdmin):
    list_display = (
        "installation",
        "company_name",
        "organisation_number",
        "status",
        "last_refreshed_at",
        "last_problem",
    )
    list_filter = ("status",)
    search_fields = ("company_name", "organisation_number", "installation__hub_id")
    exclude = _TOKEN_FIELDS
    readonly_fields = ("access_token_expires_at", "last_refreshed_at", "scopes")
