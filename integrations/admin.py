"""Staff views of installations and connections. Tokens are never shown."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

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
    readonly_fields = ("settings_page", "access_token_expires_at", "last_refreshed_at", "scopes")
    inlines = [FortnoxConnectionInline]

    @admin.display(description="Settings page")
    def settings_page(self, obj: HubSpotInstallation) -> str:
        """Support staff open the portal's settings read-only (portals/access.py), without
        signing in as the customer. By URL name: integrations/ imports nothing of portals/."""
        if obj.pk is None:
            return "—"
        url = reverse("portal-settings", kwargs={"hub_id": obj.hub_id})
        return format_html('<a href="{}" target="_blank" rel="noopener">Open read-only</a>', url)


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
