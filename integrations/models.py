"""A HubSpot portal's installation of the app and its one Fortnox connection."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from integrations.crypto import EncryptedTextField

# Refresh a little before expiry, so a token never dies in the middle of a run's calls.
TOKEN_REFRESH_MARGIN = timedelta(minutes=5)


class TokenHolder(models.Model):
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_problem = models.TextField(blank=True, default="")
    last_problem_fix = models.TextField(blank=True, default="")
    last_problem_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def access_token_is_fresh(self, now=None) -> bool:
        now = now or timezone.now()
        return bool(
            self.access_token
            and self.access_token_expires_at
            and self.access_token_expires_at - TOKEN_REFRESH_MARGIN > now
        )

    def store_tokens(
        self,
        access_token: str,
        refresh_token: str | None,
        expires_in: int,
        scopes: list[str] | None = None,
    ) -> None:
        now = timezone.now()
        self.access_token = access_token
        if refresh_token:
            self.refresh_token = refresh_token
        self.access_token_expires_at = now + timedelta(seconds=int(expires_in))
        if scopes is not None:
            self.scopes = sorted(scopes)
        self.last_refreshed_at = now

    def record_problem(self, message: str, fix: str) -> None:
        self.last_problem, self.last_problem_fix = message, fix
        self.last_problem_at = timezone.now()

    def clear_problem(self) -> None:
        self.last_problem = self.last_problem_fix = ""
        self.last_problem_at = None


class HubSpotInstallation(TokenHolder):
    class Status(models.TextChoices):
        ACTIVE = "active", "Installed"
        UNINSTALLED = "uninstalled", "Uninstalled"

    hub_id = models.BigIntegerField(unique=True, help_text="The HubSpot portal (hub) id.")
    hub_domain = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    installed_by_user_id = models.BigIntegerField(null=True, blank=True)
    installed_by_email = models.EmailField(blank=True, default="")
    installed_at = models.DateTimeField(default=timezone.now)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    properties_created_at = models.DateTimeField(
        null=True, blank=True, help_text="When the app's own Fortnox properties were created."
    )
    # HubSpot's account details (hubspot-api.md, third addendum §3), read once and cached:
    # the currency of a deal without its own, and the time zone of the deal's dates.
    company_currency = models.CharField(max_length=3, blank=True, default="")
    time_zone = models.CharField(max_length=64, blank=True, default="")
    account_details_read_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "HubSpot installation"

    def __str__(self) -> str:
        return f"portal {self.hub_id} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def active_fortnox_connection(self) -> FortnoxConnection | None:
        return self.fortnox_connections.exclude(
            status=FortnoxConnection.Status.DISCONNECTED
        ).first()


class FortnoxConnection(TokenHolder):
    """One Fortnox company connected to a portal. Disconnected rows stay as history."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
        DISCONNECTED = "disconnected", "Disconnected"

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="fortnox_connections"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    company_name = models.CharField(max_length=255, blank=True, default="")
    organisation_number = models.CharField(max_length=32, blank=True, default="")
    database_number = models.CharField(
        max_length=32, blank=True, default="", help_text="Fortnox's tenant id (DatabaseNumber)."
    )
    connected_by_user_id = models.BigIntegerField(null=True, blank=True)
    connected_by_email = models.EmailField(blank=True, default="")
    connected_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Fortnox connection"
        constraints = [
            # Exactly one Fortnox company per portal at a time.
            models.UniqueConstraint(
                fields=["installation"],
                condition=~Q(status="disconnected"),
                name="one_live_fortnox_connection_per_portal",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_name or 'Fortnox'} for portal {self.installation.hub_id}"

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.CONNECTED
