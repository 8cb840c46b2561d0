"""What the settings page keeps of its own: who may edit, one-time sign-in links, and the history
of every settings change."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from integrations.models import HubSpotInstallation


class SettingsChange(models.Model):
    """One changed setting: who, when, old → new. Written in the same transaction as the change
    (portals/history.py), listed on the settings page's History tab."""

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="settings_changes"
    )
    at = models.DateTimeField(default=timezone.now)
    user_id = models.BigIntegerField(null=True, blank=True, help_text="HubSpot user id.")
    email = models.CharField(max_length=254, blank=True, default="")
    section = models.CharField(max_length=40, help_text="The settings tab, e.g. 'products'.")
    setting = models.CharField(max_length=200, help_text="What changed, as the page labels it.")
    old_value = models.TextField(blank=True, default="")
    new_value = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["installation", "-at"], name="settings_change_recent")]

    def __str__(self) -> str:
        return f"{self.setting}: {self.old_value} → {self.new_value}"


class PortalEditor(models.Model):
    """A HubSpot user of the portal whom a super admin allowed to edit the settings page."""

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="editors"
    )
    user_id = models.BigIntegerField(null=True, blank=True, help_text="HubSpot user id.")
    email = models.CharField(max_length=254)
    added_at = models.DateTimeField(default=timezone.now)
    added_by_email = models.CharField(max_length=254, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["installation", "email"], name="one_editor_per_email")
        ]

    def __str__(self) -> str:
        return f"{self.email} may edit portal {self.installation.hub_id}"


class SignInLink(models.Model):
    """A short-lived, single-use link into the settings page, minted for one HubSpot user of one
    portal in answer to a signed `hubspot.fetch` from the settings component or the app card.
    Only a hash of the token is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="sign_in_links"
    )
    user_id = models.BigIntegerField()
    email = models.CharField(max_length=254, blank=True, default="")
    locale = models.CharField(max_length=20, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sign-in link for user {self.user_id} of portal {self.installation.hub_id}"
