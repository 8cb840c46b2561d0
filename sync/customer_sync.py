"""A contact or company → its Fortnox customer, without any document (product.md §3).

One run of kind customer sync per trigger: a workflow action, the card's Update, a Replay, a bulk
sync from the settings page. The run reads the record with the portal's mapped properties and
hands it to the one customer service (sync/customers.py), which finds, updates with what changed,
or creates the customer and writes its number back on the record. A record whose mapped values
did not change since the last sync costs no Fortnox call.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from integrations.hubspot.crm import record_get
from integrations.hubspot.errors import HubSpotNotFound
from sync.context import RunContext, RunFailure
from sync.customers import fortnox_customer_resolve
from sync.finish import run_sync_succeed
from sync.models import SubjectType
from sync.reader import CUSTOMER_PROPERTIES

CUSTOMER_SUBJECTS = (SubjectType.COMPANY, SubjectType.CONTACT)


def customer_properties(ctx: RunContext, object_type: str) -> list[str]:
    """What a customer sync reads of the record: the app's own and every mapped source."""
    target = "company" if object_type == SubjectType.COMPANY else "contact"
    return list(
        dict.fromkeys(CUSTOMER_PROPERTIES[object_type] + list(ctx.mappings[target].values()))
    )


def customer_sync_run(ctx: RunContext) -> None:
    run = ctx.run
    if run.subject_type not in CUSTOMER_SUBJECTS:
        raise RunFailure(
            _("A customer sync works on a contact or a company, not on a %(object)s.")
            % {"object": run.get_subject_type_display().lower()},
            _("Start the sync from a contact or a company."),
        )
    try:
        record = record_get(
            ctx.hubspot,
            run.subject_type,
            run.subject_id,
            customer_properties(ctx, run.subject_type),
        )
    except HubSpotNotFound:
        raise RunFailure(
            (
                _("The company %(id)s no longer exists in HubSpot.")
                if run.subject_type == SubjectType.COMPANY
                else _("The contact %(id)s no longer exists in HubSpot.")
            )
            % {"id": run.subject_id},
            _("Nothing to sync: restore the record in HubSpot if it was deleted by mistake."),
        ) from None
    run.data_read = {"record": record.properties}
    run.save(update_fields=["data_read"])
    customer = fortnox_customer_resolve(ctx, record, run.subject_type)
    if customer.matched_by == "created":
        action = "created"
    elif customer.updated_fields:
        action = "updated"
    elif customer.matched_by == "mapping":
        action = "unchanged"
    else:
        action = "found"
    if action == "unchanged":
        ctx.info(
            _("Fortnox customer %(number)s is already in step with HubSpot: nothing was sent.")
            % {"number": customer.number}
        )
    run.fortnox_customer_number = customer.number
    run.data_read = {
        **run.data_read,
        "outcome": {
            "action": action,
            "customer_number": customer.number,
            "customer_name": customer.name,
            "matched_by": customer.matched_by,
            "updated_fields": list(customer.updated_fields),
        },
    }
    run.save(update_fields=["fortnox_customer_number", "data_read"])
    run_sync_succeed(run)
