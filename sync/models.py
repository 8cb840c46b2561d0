"""Sync settings per portal, the webhook events HubSpot sent, and every run with its steps."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from integrations.models import HubSpotInstallation


class SubjectType(models.TextChoices):
    """The HubSpot object a run works on, named as HubSpot's CRM API names object types."""

    DEAL = "deals", "Deal"
    COMPANY = "companies", "Company"
    CONTACT = "contacts", "Contact"
    PRODUCT = "products", "Product"


class RunKind(models.TextChoices):
    """What a run does. Each kind has one handler in sync/execute.py (HANDLERS)."""

    INVOICE = "invoice", "Invoice"
    ORDER = "order", "Order"
    # A contact or company → its Fortnox customer (sync/customer_sync.py).
    CUSTOMER_SYNC = "customer_sync", "Customer sync"
    # A product → its Fortnox article (sync/product_sync.py); a deal's products, for the
    # deal-based workflow action, are one run per product.
    PRODUCT_SYNC = "product_sync", "Product sync"


# The kinds of run that create a Fortnox document: what a pipeline's trigger stage may create.
DOCUMENT_KINDS = (RunKind.INVOICE, RunKind.ORDER)
# The kinds that keep a Fortnox register in step and create no document.
SYNC_KINDS = (RunKind.CUSTOMER_SYNC, RunKind.PRODUCT_SYNC)


class SyncSettings(models.Model):
    class ArticleSearch(models.TextChoices):
        SKU = "sku", "By SKU"
        NAME = "name", "By product name"

    class NotFoundPolicy(models.TextChoices):
        SKIP = "skip", "Skip the document (the run fails with a note)"
        DEFAULT_ARTICLE = "default_article", "Use the default placeholder article"
        CREATE_ARTICLE = "create_article", "Create the article in Fortnox"

    class NoLineItemsPolicy(models.TextChoices):
        FAIL = "fail", "Fail with a note"
        DEFAULT_ROW = "default_row", "One row with the default article and the deal amount"

    installation = models.OneToOneField(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="sync_settings"
    )
    auto_create = models.BooleanField(
        default=True,
        help_text="Create documents automatically when a deal enters a trigger "
        "stage of an added pipeline.",
    )
    article_search = models.CharField(
        max_length=10, choices=ArticleSearch.choices, default=ArticleSearch.SKU
    )
    not_found_policy = models.CharField(
        max_length=20, choices=NotFoundPolicy.choices, default=NotFoundPolicy.SKIP
    )
    default_article_number = models.CharField(max_length=50, blank=True, default="")
    # The Fortnox company (DatabaseNumber) the default article was chosen in: an article number
    # means nothing in another company, so after a reconnect to another one it is not used.
    default_article_database_number = models.CharField(max_length=32, blank=True, default="")
    no_line_items_policy = models.CharField(
        max_length=20, choices=NoLineItemsPolicy.choices, default=NoLineItemsPolicy.FAIL
    )

    # Customers (product.md §3; matching rules in sync/customers.py). The settings page may
    # switch the optional rules off, nothing more.
    class CustomerPreference(models.TextChoices):
        COMPANY = "company", "The deal's company; its contact when it has none"
        CONTACT = "contact", "The deal's contact; its company when it has none"

    customer_preference = models.CharField(
        max_length=10, choices=CustomerPreference.choices, default=CustomerPreference.COMPANY
    )
    match_by_name = models.BooleanField(
        default=True,
        help_text="Match a company without organisation or VAT number to the one Fortnox "
        "company customer with exactly its name.",
    )
    match_contact_by_email = models.BooleanField(
        default=True, help_text="Match a contact to a Fortnox private customer by e-mail."
    )

    # Articles the "create article" policy creates (Fortnox's Article fields).
    class ArticleType(models.TextChoices):
        SERVICE = "SERVICE", "Service"
        STOCK = "STOCK", "Stock item"

    new_article_type = models.CharField(
        max_length=10, choices=ArticleType.choices, default=ArticleType.SERVICE
    )
    new_article_unit = models.CharField(
        max_length=10, blank=True, default="", help_text="A Fortnox unit code; '' for none."
    )
    new_article_vat = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="VAT percent (25, 12, 6 or 0); empty: Fortnox's default."
    )
    new_article_sales_account = models.CharField(
        max_length=10, blank=True, default="", help_text="A Fortnox account; '' for the default."
    )

    # General.
    class Language(models.TextChoices):
        SWEDISH = "sv", "Svenska"
        ENGLISH = "en", "English"

    language = models.CharField(
        max_length=2,
        choices=Language.choices,
        default=Language.SWEDISH,
        help_text="The language of notes on deals and of Fortnox documents.",
    )
    failure_task = models.BooleanField(
        default=False, help_text="On a failed run, also create a HubSpot task for the deal owner."
    )

    # Products → Fortnox articles (issue 15; sync/product_sync.py). Off by default: a portal
    # turns it on on the settings page's Products tab.
    product_sync = models.BooleanField(
        default=False,
        help_text="Create and update the Fortnox article when a product is created, changed or "
        "archived in HubSpot.",
    )
    price_list = models.CharField(
        max_length=100,
        default="A",
        help_text="The Fortnox price list that gets the product's price (an article's sales "
        "price is read-only in Fortnox: fortnox-api.md §4.2).",
    )

    # The app cards (issue 16): who may press Update, Perform Sync, Create now and Replay on
    # the cards; everyone else of the portal sees the figures only.
    class CardActions(models.TextChoices):
        ALLOW_LIST = "allow_list", "Super admins and the users allowed on the Users tab"
        EVERYONE = "everyone", "Every user who can open the record in HubSpot"

    card_actions = models.CharField(
        max_length=20,
        choices=CardActions.choices,
        default=CardActions.ALLOW_LIST,
        help_text="Who may use the buttons on the app cards.",
    )
    # What the deal card's Create now makes unless the user picks the other.
    card_document_type = models.CharField(
        max_length=10,
        choices=[(k.value, k.label) for k in DOCUMENT_KINDS],
        default=RunKind.INVOICE,
        help_text="What the deal card's Create now makes by default.",
    )

    field_mappings = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"customer"|"document"|"row": {"<Fortnox field>": "<HubSpot property>"}}; '
        "merged over the defaults in sync/mapping.py.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sync settings"
        verbose_name_plural = "sync settings"

    def __str__(self) -> str:
        return f"sync settings of portal {self.installation.hub_id}"

    def save(self, *args, **kwargs) -> None:
        # Whoever sets the default article (settings page, API, admin) sets it for the Fortnox
        # company connected now; keep that company with it.
        stored = (
            SyncSettings.objects.filter(pk=self.pk)
            .values_list("default_article_number", flat=True)
            .first()
            if self.pk
            else None
        )
        if self.default_article_number != (stored or "") or (
            self.default_article_number and not self.default_article_database_number
        ):
            connection = self.installation.active_fortnox_connection()
            self.default_article_database_number = (
                connection.database_number if connection and self.default_article_number else ""
            )
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {
                    *kwargs["update_fields"],
                    "default_article_database_number",
                }
        super().save(*args, **kwargs)

    def default_article_for(self, database_number: str) -> str:
        """The default article number, if it was chosen in this Fortnox company."""
        if self.default_article_database_number not in ("", database_number):
            return ""
        return self.default_article_number


class PipelineSetting(models.Model):
    """A pipeline added to the sync: which stages trigger which document."""

    settings = models.ForeignKey(SyncSettings, on_delete=models.CASCADE, related_name="pipelines")
    pipeline_id = models.CharField(max_length=100)
    pipeline_label = models.CharField(max_length=255, blank=True, default="")
    trigger_stage_ids = models.JSONField(default=list)
    document_type = models.CharField(
        max_length=10,
        choices=[(k.value, k.label) for k in DOCUMENT_KINDS],
        default=RunKind.INVOICE,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["settings", "pipeline_id"], name="one_setting_per_pipeline"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pipeline_label or self.pipeline_id} → {self.get_document_type_display()}"


class WebhookEvent(models.Model):
    """One event HubSpot delivered. `eventId` is not unique (hubspot-api.md §3), so the
    deduplication key is what the event says: portal, object, property, value and time.

    The receiver stores an event undecided (outcome UNDECIDED) and answers; a worker decides it
    (sync/webhooks.py webhook_events_decide) and records the outcome."""

    UNDECIDED = ""

    hub_id = models.BigIntegerField()
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    property_name = models.CharField(max_length=100, blank=True, default="")
    property_value = models.CharField(max_length=255, blank=True, default="")
    occurred_at_ms = models.BigIntegerField()
    subscription_type = models.CharField(max_length=60)
    event_id = models.BigIntegerField(null=True, blank=True)
    attempt_number = models.IntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=255, blank=True, default="")
    run = models.ForeignKey(
        "Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    personal_data_scrubbed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the changed value was removed (sync/privacy.py); the event row stays.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "hub_id",
                    "object_type",
                    "object_id",
                    "property_name",
                    "property_value",
                    "occurred_at_ms",
                ],
                name="webhook_event_dedupe",
            )
        ]
        indexes = [
            models.Index(fields=["hub_id", "received_at"]),
            # The decider's and the sweep's work list: small, as events are decided in seconds.
            models.Index(
                fields=["hub_id", "occurred_at_ms", "id"],
                condition=models.Q(outcome=""),
                name="webhook_event_undecided",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.subscription_type} {self.object_type} {self.object_id} "
            f"{self.property_name}={self.property_value}"
        )


class InboundRejection(models.Model):
    """A signed request from HubSpot, or one event of a webhook delivery, that could not be
    used, kept with why for support. HubSpot retries any non-2xx webhook delivery for up to a
    day (hubspot-api.md §3.1), which would not make a bad one better, so it is answered 2xx and
    lands here; a bad workflow-action request is answered FAIL_CONTINUE and lands here too.
    Requests without a valid signature are answered 401 and never recorded."""

    RAW_KEPT_CHARS = 4000  # enough to see what was wrong; the rest of a large body is dropped

    class Kind(models.TextChoices):
        WEBHOOK_DELIVERY = "webhook_delivery", "Webhook delivery (the whole body)"
        WEBHOOK_EVENT = "webhook_event", "Webhook event (one of a delivery)"
        WORKFLOW_ACTION = "workflow_action", "Workflow action request"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    received_at = models.DateTimeField(default=timezone.now)
    request_id = models.CharField(max_length=64, blank=True, default="")
    hub_id = models.BigIntegerField(
        null=True, blank=True, help_text="The portal, when the request names a usable one."
    )
    event_index = models.IntegerField(
        null=True, blank=True, help_text="The event's position in its delivery, from 0."
    )
    reason = models.TextField(help_text="Which field, and why it was not usable.")
    raw = models.TextField(blank=True, default="", help_text="What was received, truncated.")

    class Meta:
        indexes = [models.Index(fields=["received_at"]), models.Index(fields=["hub_id"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} rejected: {self.reason[:80]}"


class Run(models.Model):
    class Trigger(models.TextChoices):
        STAGE = "stage", "Deal stage"
        WORKFLOW = "workflow", "Workflow action"
        REPLAY = "replay", "Replay"
        MANUAL = "manual", "Manual"
        # A change HubSpot reported by webhook (a product edited with product sync on).
        CHANGE = "change", "Record change"
        # One record of a bulk sync started on the settings page (sync/bulk.py): reported on
        # the settings page, never in notes, and at most one such run of a portal at a time.
        BULK = "bulk", "Bulk sync"
        # A button on the app card: Update (a customer sync) or Create now / Create again.
        CARD = "card", "App card"

    # Triggers a person or a workflow started: their syncs leave a note on the record.
    ASKED_TRIGGERS = (Trigger.WORKFLOW, Trigger.MANUAL, Trigger.REPLAY, Trigger.CARD)

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    LIVE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.SUCCEEDED)

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="runs"
    )
    # The record the run works on (a deal for invoices and orders) and what it does to it.
    subject_type = models.CharField(
        max_length=20, choices=SubjectType.choices, default=SubjectType.DEAL
    )
    subject_id = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=RunKind.choices)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    # What the run is for: "stage:<pipeline>:<stage>", "workflow:<callbackId>", ... A replay
    # keeps the key of the run it replays, so one trigger still gives at most one outcome.
    trigger_key = models.CharField(max_length=200)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    external_reference = models.CharField(max_length=80, blank=True, default="")
    create_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set before the create call: a retry then looks the "
        "document up by its external reference first.",
    )
    fortnox_document_number = models.CharField(max_length=40, blank=True, default="")
    fortnox_customer_number = models.CharField(max_length=40, blank=True, default="")
    total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    # The reconciliation's differences between Fortnox's document and the deal (sync/
    # reconcile.py): [{"what", "deal", "fortnox", "kind"}]; empty when they match.
    reconciliation_differences = models.JSONField(default=list, blank=True)
    error_code = models.CharField(max_length=60, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    error_fix = models.TextField(blank=True, default="")
    service_message = models.TextField(blank=True, default="")
    data_read = models.JSONField(
        default=dict, blank=True, help_text="What the run read from HubSpot (for support)."
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Fair dispatch (sync/dispatch.py): when a task was last sent (or is due, for a retry),
    # since when the run waits for a free slot of its portal, and until when the attempt under
    # way holds its slot (past it, the worker is taken for lost).
    dispatched_at = models.DateTimeField(default=timezone.now)
    waiting_since = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    personal_data_scrubbed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When names, e-mails, addresses and free text were removed from what the run "
        "read and its messages (sync/privacy.py); ids, amounts and numbers stay.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "subject_type", "subject_id", "kind", "trigger_key"],
                condition=Q(status__in=["queued", "running", "succeeded"]),
                name="one_live_run_per_subject_trigger",
            )
        ]
        indexes = [
            models.Index(
                fields=["installation", "subject_type", "subject_id"],
                name="sync_run_install_subject_idx",
            ),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["installation", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        return (
            f"run {self.pk}: {self.get_subject_type_display().lower()} {self.subject_id} → "
            f"{self.kind} ({self.status})"
        )

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED, self.Status.SKIPPED)


class RunStep(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField(default=timezone.now)
    attempt = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=10)  # "call" | "info" | "error"
    service = models.CharField(max_length=10, blank=True, default="")
    method = models.CharField(max_length=10, blank=True, default="")
    path = models.CharField(max_length=300, blank=True, default="")
    status = models.IntegerField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.method} {self.path} {self.status or ''}".strip()


class CustomerMapping(models.Model):
    """A HubSpot company or contact and its Fortnox customer, per portal and Fortnox company
    (a customer number means another customer, or none, in another company), both ways."""

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="customer_mappings"
    )
    # The Fortnox company's DatabaseNumber (FortnoxConnection.database_number).
    fortnox_database_number = models.CharField(max_length=32, default="", blank=True)
    hubspot_object_type = models.CharField(max_length=20)  # "companies" | "contacts"
    hubspot_object_id = models.CharField(max_length=40)
    fortnox_customer_number = models.CharField(max_length=40)
    # A short hash per customer field last sent to (or matched in) Fortnox for this record
    # ("Name=ab12…;City=…", sync/customers.py): a run updates the Fortnox customer, with the
    # changed fields only, when HubSpot's mapped values hash differently.
    fields_fingerprint = models.TextField(default="", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "installation",
                    "fortnox_database_number",
                    "hubspot_object_type",
                    "hubspot_object_id",
                ],
                name="one_customer_per_record_and_company",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.hubspot_object_type} {self.hubspot_object_id} → customer "
            f"{self.fortnox_customer_number}"
        )


class Delivery(models.Model):
    """One effect on an external system (a note, record properties, a workflow callback), written
    in the same transaction as the run's final status and sent by its own task until it lands
    or is given up with a reason (sync/deliveries.py). Saleor's EventDelivery is the model."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note (with its PDF)"
        PROPERTIES = "properties", "Record properties"
        WORKFLOW_CALLBACK = "workflow_callback", "Workflow callback"
        TASK = "task", "Task for the deal owner"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        SUPERSEDED = "superseded", "Superseded by a newer one"
        GAVE_UP = "gave_up", "Gave up"

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="deliveries"
    )
    run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # State-carrying deliveries ("deals:123") are ordered by `sequence` (the run's pk): a newer
    # one for the same record supersedes older pending ones.
    record_key = models.CharField(max_length=100, blank=True, default="")
    sequence = models.BigIntegerField(default=0)
    payload = models.JSONField(default=dict)
    result = models.JSONField(
        default=dict, blank=True, help_text="What HubSpot gave back: note id, file id, ..."
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A sending attempt holds the delivery until then."
    )
    send_started_at = models.DateTimeField(null=True, blank=True)
    outcome_unknown = models.BooleanField(
        default=False,
        help_text="A non-idempotent send went out and no clear answer came back: the next "
        "attempt looks for the note before sending it again.",
    )
    last_error = models.TextField(blank=True, default="")
    gave_up_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["installation", "record_key", "status"]),
        ]

    def __str__(self) -> str:
        target = self.record_key or self.payload.get("callback_id", "")
        return f"delivery {self.pk}: {self.kind} {target} ({self.status})".replace("  ", " ")


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, what HubSpot (or Fortnox, for the PDF) answered, how long."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20)  # delivered | retry | gave_up | superseded | ...
    status_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.outcome} {self.status_code or ''} {self.error[:60]}".strip()


class ArticleMapping(models.Model):
    """A HubSpot product and its Fortnox article, per portal and Fortnox company, keyed by the
    product id: the article number (the product's SKU when created) cannot change in Fortnox."""

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="article_mappings"
    )
    fortnox_database_number = models.CharField(max_length=32, default="", blank=True)
    hubspot_product_id = models.CharField(max_length=40)
    fortnox_article_number = models.CharField(max_length=50)
    # A short hash per article field (and the price) last sent: a sync sends only what changed,
    # and nothing when nothing did (as CustomerMapping.fields_fingerprint).
    fields_fingerprint = models.TextField(default="", blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "fortnox_database_number", "hubspot_product_id"],
                name="one_article_per_product_and_company",
            ),
        ]

    def __str__(self) -> str:
        return f"product {self.hubspot_product_id} → article {self.fortnox_article_number}"


class BulkSync(models.Model):
    """ "Sync companies now" / "Sync products now" from the settings page (sync/bulk.py): the
    scope the admin chose, its count (shown before confirming), and where the paging through
    HubSpot got to, so a crash resumes instead of starting again. Each record becomes one run of
    trigger bulk with trigger key "bulk:<id>": the runs' unique constraint makes a resumed sync
    create nothing twice, and the runs are its progress."""

    class ObjectType(models.TextChoices):
        COMPANIES = "companies", "Companies"
        PRODUCTS = "products", "Products"

    class Scope(models.TextChoices):
        PIPELINE_DEALS = "pipeline_deals", "Companies with a deal in an added pipeline"
        LIST = "list", "A HubSpot list"
        LIFECYCLE_STAGE = "lifecycle_stage", "A lifecycle stage"
        ALL = "all", "All"

    class Status(models.TextChoices):
        COUNTING = "counting", "Counting"
        COUNTED = "counted", "Counted, waiting for confirmation"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="bulk_syncs"
    )
    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    scope = models.CharField(max_length=20, choices=Scope.choices)
    scope_value = models.CharField(
        max_length=200, blank=True, default="", help_text="The list id or lifecycle stage."
    )
    scope_label = models.CharField(max_length=300, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COUNTING)
    total = models.PositiveIntegerField(null=True, blank=True)
    queued = models.PositiveIntegerField(default=0, help_text="Runs created so far.")
    # Where paging through HubSpot got to (an `after` token, or a phase and token), committed
    # with the runs of each page.
    cursor = models.JSONField(default=dict, blank=True)
    started_by = models.CharField(max_length=254, blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["installation", "created_at"])]

    def __str__(self) -> str:
        return f"bulk sync {self.pk}: {self.object_type} ({self.status})"

    @property
    def trigger_key(self) -> str:
        return f"bulk:{self.pk}"


class FortnoxDocument(models.Model):
    """What the app last read of one Fortnox invoice or order (sync/figures.py): the source of
    the app cards' figures and of the deals' payment status, refreshed by Perform Sync and
    nightly. Amounts are Fortnox's own, in the document's currency."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        ORDER = "order", "Order"

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="fortnox_documents"
    )
    # The Fortnox company (DatabaseNumber) the document belongs to.
    fortnox_database_number = models.CharField(max_length=32)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    document_number = models.CharField(max_length=40)
    customer_number = models.CharField(max_length=40, db_index=True)
    # The customer's name as the document has it (CustomerName): what the card shows beside
    # the number.
    customer_name = models.CharField(max_length=255, blank=True, default="")
    document_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    balance = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="SEK")
    currency_rate = models.DecimalField(max_digits=16, decimal_places=6, default=1)
    currency_unit = models.DecimalField(max_digits=12, decimal_places=2, default=1)
    booked = models.BooleanField(default=False)
    cancelled = models.BooleanField(default=False)
    sent = models.BooleanField(default=False)
    # A credit invoice (Credit "true"). credit_invoice_reference: for a credited invoice its credit
    # invoice's number, for a credit invoice the number of the invoice it credits.
    credit = models.BooleanField(default=False)
    credit_invoice_reference = models.CharField(max_length=40, blank=True, default="")
    # An order: the invoice made from it (InvoiceReference, "" or "0" until then).
    invoice_reference = models.CharField(max_length=40, blank=True, default="")
    # Whether the credit fields were read (they are on the document, not on list items).
    detail_read = models.BooleanField(default=False)
    # A digest of the list item as last read: a changed one is read again in full.
    list_digest = models.CharField(max_length=64, blank=True, default="")
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "fortnox_database_number", "kind", "document_number"],
                name="one_copy_per_fortnox_document",
            )
        ]
        indexes = [
            models.Index(
                fields=["installation", "fortnox_database_number", "customer_number"],
                name="sync_fxdoc_customer_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Fortnox {self.kind} {self.document_number} (customer {self.customer_number})"


class FortnoxCustomerFigures(models.Model):
    """A Fortnox customer's figures as last computed (sync/figures.py), in SEK: what the app
    card shows and what was written to the contact's or company's Fortnox properties."""

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="fortnox_customer_figures"
    )
    fortnox_database_number = models.CharField(max_length=32)
    customer_number = models.CharField(max_length=40)
    total_invoiced = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    balance = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    overdue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    invoice_count = models.PositiveIntegerField(default=0)
    # When every page of the customer's invoices was last read from Fortnox.
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "fortnox_database_number", "customer_number"],
                name="one_figures_row_per_customer",
            )
        ]

    def __str__(self) -> str:
        return f"figures of Fortnox customer {self.customer_number}"


class FiguresRefresh(models.Model):
    """The nightly refresh of one Fortnox company's invoices and orders (sync/figures.py): the
    `lastmodified` it asked from, and how the last one ended."""

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="figures_refreshes"
    )
    fortnox_database_number = models.CharField(max_length=32)
    # The next refresh asks for what changed since this moment (minus an overlap).
    modified_since = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["installation", "fortnox_database_number"],
                name="one_figures_refresh_per_company",
            )
        ]

    def __str__(self) -> str:
        return f"figures refresh of Fortnox company {self.fortnox_database_number}"


class CardAction(models.Model):
    """One press of a button on an app card (portals/cards.py): who pressed what on which
    record, and how it ended. A press that starts a run follows the run; Perform Sync is a task
    of its own, whose end is written here. The card shows the latest one's outcome, and polls
    while it is running."""

    class Action(models.TextChoices):
        UPDATE = "update", "Update"
        SYNC = "sync", "Perform Sync"
        CREATE = "create", "Create now"
        REPLAY = "replay", "Replay"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    installation = models.ForeignKey(
        HubSpotInstallation, on_delete=models.CASCADE, related_name="card_actions"
    )
    subject_type = models.CharField(max_length=20, choices=SubjectType.choices)
    subject_id = models.CharField(max_length=40)
    action = models.CharField(max_length=10, choices=Action.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="card_actions"
    )
    user_id = models.BigIntegerField(null=True, blank=True, help_text="HubSpot user id.")
    message = models.TextField(blank=True, default="")
    fix = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["installation", "subject_type", "subject_id", "-created_at"],
                name="sync_cardaction_subject_idx",
            )
        ]

    def __str__(self) -> str:
        return f"card {self.action} on {self.subject_type} {self.subject_id} ({self.status})"
