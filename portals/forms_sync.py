"""Forms of the Invoices & orders and General tabs. Each message names the field and the fix."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sync.models import DOCUMENT_KINDS, RunKind, SyncSettings


class ReadOnlyMixin:
    """A read-only user sees the values with every input disabled."""

    def disable_all(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            field.disabled = True


class AutoCreateForm(ReadOnlyMixin, forms.Form):
    auto_create = forms.BooleanField(
        required=False,
        label=_("Create documents automatically"),
        help_text=_(
            "On: a deal that enters a trigger stage of an added pipeline becomes a draft invoice "
            "or order in Fortnox. Off: nothing is created when deals move; the workflow actions "
            "still work."
        ),
    )


class PipelineForm(ReadOnlyMixin, forms.Form):
    """One HubSpot pipeline: its trigger stages (HubSpot's, read live) and the document."""

    trigger_stage_ids = forms.MultipleChoiceField(
        label=_("Trigger stages"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A deal that enters one of these stages creates the document."),
        error_messages={
            "required": _(
                "Trigger stages: pick at least one stage. Without one, no deal of this pipeline "
                "creates a document."
            ),
            "invalid_choice": _(
                "Trigger stages: %(value)s is not a stage of this pipeline in HubSpot. Pick "
                "stages from the list (reload the page if the pipeline was changed in HubSpot)."
            ),
        },
    )
    document_type = forms.ChoiceField(
        label=_("Document to create"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Document to create: choose invoice or order."),
            "invalid_choice": _("Document to create: choose invoice or order."),
        },
    )

    def __init__(self, *args: Any, pipeline: dict[str, Any], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"pipeline-{pipeline['id']}")
        super().__init__(*args, **kwargs)
        self.pipeline = pipeline
        self.fields["trigger_stage_ids"].choices = [
            (stage["id"], stage["label"]) for stage in pipeline["stages"]
        ]
        self.fields["document_type"].choices = [(k.value, _(k.label)) for k in DOCUMENT_KINDS]


class GeneralForm(ReadOnlyMixin, forms.Form):
    language = forms.ChoiceField(
        label=_("Language of notes and documents"),
        choices=SyncSettings.Language.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "The language of the notes the app writes on deals and of the Fortnox documents it "
            "creates."
        ),
        error_messages={
            "required": _("Language of notes and documents: choose Svenska or English."),
            "invalid_choice": _("Language of notes and documents: choose Svenska or English."),
        },
    )
    failure_task = forms.BooleanField(
        required=False,
        label=_("On failure, also create a task for the deal owner"),
        help_text=_(
            "Besides the note on the deal, a HubSpot task reminds the deal's owner to fix the "
            "problem and replay the run."
        ),
    )
    card_actions = forms.ChoiceField(
        label=_("Who may use the app card's buttons"),
        choices=[
            (
                SyncSettings.CardActions.ALLOW_LIST,
                _("Super admins and the users allowed on the Users tab"),
            ),
            (SyncSettings.CardActions.EVERYONE, _("Every user who can open the record in HubSpot")),
        ],
        widget=forms.RadioSelect,
        help_text=_(
            "Update, Perform Sync, Create now and Replay on the contact, company and deal cards; "
            "everyone else sees the figures only. HubSpot's way for apps to ask who may edit one "
            "record is still in beta, so edit rights on the record are not the rule yet."
        ),
        error_messages={
            "required": _("Who may use the app card's buttons: choose one of the two."),
            "invalid_choice": _("Who may use the app card's buttons: choose one of the two."),
        },
    )
    card_document_type = forms.ChoiceField(
        label=_("Create now on the deal card makes"),
        choices=[(RunKind.INVOICE, _("An invoice")), (RunKind.ORDER, _("An order"))],
        widget=forms.RadioSelect,
        help_text=_("The card asks each time; this is what it offers first."),
        error_messages={
            "required": _("Create now on the deal card makes: choose an invoice or an order."),
            "invalid_choice": _(
                "Create now on the deal card makes: choose an invoice or an order."
            ),
        },
    )
