"""Plans, each portal's plan, and what is counted (issue 17; billing/quota.py counts and reserves).

Only successful document creations count, each once: a UsageRecord is written in the same
transaction that marks the run succeeded, unique per run and per Fortnox document. The quota is
a reservation (QuotaReservation) taken before the Fortnox create under the portal row's lock and
turned into usage on success or released on failure. Periods are calendar months in
Europe/Stockholm, named by their first day.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from integrations.models import HubSpotInstallation, TokenHolder


class Plan(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    monthly_quota = models.PositiveIntegerField(help_text="Documents a month.")
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="SEK")
    is_default = models.BooleanField(
        default=False, help_text="The plan of a portal that has none yet (one plan only)."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["monthly_quota"]

    def __str__(self) -> str:
        return f"{self.name} ({self.monthly_quota} documents a month)"

    @property
    def is_paid(self) -> bool:
        return self.price > 0


class PortalPlan(models.Model):
    """A portal's plan; a change takes effect at once (the quota of the current period)."""

    installation = models.OneToOneField(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="portal_plan"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="portals")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.CharField(max_length=254, blank=True, default="")

    def __str__(self) -> str:
        return f"portal {self.installation.hub_id} on {self.plan.code}"


class QuotaReservation(models.Model):
    """One unit of a period's quota held by a run between its check and its outcome."""

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="quota_reservations"
    )
    run = models.OneToOneField(
        "sync.Run", on_delete=models.CASCADE, related_name="quota_reservation"
    )
    period = models.DateField(help_text="The first day of the month (Europe/Stockholm).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["installation", "period"], name="billing_resv_period_idx")]

    def __str__(self) -> str:
        return f"reservation of run {self.run_id} in {self.period:%Y-%m}"


class UsageRecord(models.Model):
    """One counted document: written with the run's success, never twice for a run or for a
    Fortnox document."""

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="usage_records"
    )
    run = models.OneToOneField("sync.Run", on_delete=models.PROTECT, related_name="usage_record")
    period = models.DateField(help_text="The first day of the month (Europe/Stockholm).")
    kind = models.CharField(max_length=10)  # "invoice" | "order"
    fortnox_database_number = models.CharField(max_length=32, blank=True, default="")
    document_number = models.CharField(max_length=40)
    deal_id = models.CharField(max_length=40)
    deal_name = models.CharField(max_length=255, blank=True, default="")
    total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    counted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "fortnox_database_number", "kind", "document_number"],
                name="one_usage_per_fortnox_document",
            )
        ]
        indexes = [models.Index(fields=["installation", "period"], name="billing_usage_period_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.document_number} of portal {self.installation.hub_id}"


class UsageCredit(models.Model):
    """Staff took back a count made in error: recorded with who and why, never a delete."""

    usage = models.OneToOneField(UsageRecord, on_delete=models.PROTECT, related_name="credit")
    reason = models.TextField()
    credited_by = models.CharField(max_length=254)
    credited_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"credit of {self.usage}"


class QuotaNotice(models.Model):
    """A threshold (80 or 100 %) crossed in a period: told once on the settings page and once in
    a note on the deal that crossed it."""

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="quota_notices"
    )
    period = models.DateField()
    percent = models.PositiveSmallIntegerField()
    deal_id = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "period", "percent"], name="one_quota_notice_per_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.percent} % of portal {self.installation.hub_id} in {self.period:%Y-%m}"


class BillingDetails(models.Model):
    """Who pays for a paid plan: given by a super admin on the settings page."""

    installation = models.OneToOneField(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="billing_details"
    )
    legal_name = models.CharField(max_length=200)
    organisation_number = models.CharField(max_length=20, blank=True, default="")
    vat_number = models.CharField(max_length=20, blank=True, default="")
    address = models.CharField(max_length=200)
    zip_code = models.CharField(max_length=20)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="SE")
    invoice_email = models.EmailField()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=254, blank=True, default="")

    def __str__(self) -> str:
        return f"billing details of portal {self.installation.hub_id}"


class UpgradeRequest(models.Model):
    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="upgrade_requests"
    )
    wanted_plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL)
    requested_by = models.CharField(max_length=254)
    message = models.TextField(blank=True, default="")
    requested_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"upgrade request of portal {self.installation.hub_id}"


class VendorFortnoxConnection(TokenHolder):
    """The vendor's own Fortnox company, where the portals' period invoices are drafted
    (billing/vendor_invoices.py). Connected once by staff from Django admin through the app's
    usual OAuth; not a portal's connection. Disconnected rows stay as history."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
        DISCONNECTED = "disconnected", "Disconnected"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    company_name = models.CharField(max_length=255, blank=True, default="")
    organisation_number = models.CharField(max_length=32, blank=True, default="")
    database_number = models.CharField(
        max_length=32, blank=True, default="", help_text="Fortnox's tenant id (DatabaseNumber)."
    )
    connected_by = models.CharField(max_length=254, blank=True, default="")
    connected_at = models.DateTimeField(default=timezone.now)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "vendor's Fortnox connection"
        constraints = [
            # One live vendor company at a time: a unique index on a constant, over the rows
            # that are not disconnected.
            models.UniqueConstraint(
                models.Value(True),
                condition=~Q(status="disconnected"),
                name="one_live_vendor_fortnox_connection",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_name or 'Fortnox'} (the vendor's company, {self.status})"

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.CONNECTED


class VendorInvoice(models.Model):
    """The vendor's draft invoice to a portal for one period, in the vendor's Fortnox company:
    one per portal and period (the row is taken under a lock before anything is sent), never
    deleted. `create_sent_at` without a number means the answer to the create may have been
    lost: the invoice is first looked up by `external_reference`."""

    class Status(models.TextChoices):
        CREATING = "creating", "Creating"
        CREATED = "created", "Created"
        FAILED = "failed", "Failed"

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.PROTECT, related_name="vendor_invoices"
    )
    period = models.DateField(help_text="The first day of the month (Europe/Stockholm).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATING)
    external_reference = models.CharField(max_length=80, unique=True)
    fortnox_database_number = models.CharField(max_length=32, blank=True, default="")
    fortnox_customer_number = models.CharField(max_length=40, blank=True, default="")
    customer_matched_by = models.CharField(max_length=40, blank=True, default="")
    document_number = models.CharField(max_length=40, blank=True, default="")
    total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    total_vat = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    plan_name = models.CharField(max_length=100, blank=True, default="")
    plan_quota = models.PositiveIntegerField(null=True, blank=True)
    plan_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    plan_currency = models.CharField(max_length=3, blank=True, default="")
    used = models.PositiveIntegerField(null=True, blank=True)
    credited = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.CharField(max_length=254, blank=True, default="")
    requested_at = models.DateTimeField(default=timezone.now)
    create_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True, default="")
    error_fix = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "period"], name="one_vendor_invoice_per_portal_period"
            )
        ]

    def __str__(self) -> str:
        return f"vendor invoice of portal {self.installation.hub_id} for {self.period:%Y-%m}"
