"""Deliveries: each effect a run has on HubSpot (the note with its PDF, the deal's properties,
the workflow callback) is a row written in the same transaction as the run's final status, and
sent by its own task until it lands or is given up with a reason (Saleor's EventDelivery and
attempt rows are the model).

- Transient failures (429, 5xx, network, any IntegrationError with transient=True) are retried
  by the task with exponential backoff and jitter for about a day: HubSpot keeps a BLOCKed
  workflow waiting a week, and a note late is better than none. Permanent ones (record deleted,
  validation, portal uninstalled) give up at once. Giving up writes the reason on the row
  (Django admin) and an ERROR log line with the delivery, run and portal ids.
- State-carrying deliveries (record properties) are ordered by `sequence` (the run's pk): a
  newer one for the same record supersedes older pending ones, which are then never sent, and
  one waits while an older one of the same record is mid-send, so they land in order.
- The failure task (SyncSettings.failure_task) is a task on the deal for its owner, sent like
  the note: non-idempotent, so checked before it repeats (the deal's tasks searched for the
  run's marker).
- Non-idempotent deliveries (the note) check before they repeat: before a note whose earlier
  attempt's outcome is unknown is sent again, the record's notes are searched for its marker
  (the footer's "run <id>"), and a note found is adopted. The PDF is uploaded under a name
  unique to the run with RETURN_EXISTING, so repeating the upload returns the same file.

`delivery_send` makes one attempt under a lease; the minute sweep sends again deliveries whose
task was lost or whose worker died.
"""

from sync.deliveries.sending import deliveries_sweep, delivery_send, retry_delay_s
from sync.deliveries.specs import (
    DeliverySpec,
    DeliverySpecInvalid,
    deliveries_create,
    note_spec,
    properties_spec,
    task_spec,
    workflow_callback_spec,
)

__all__ = [
    "DeliverySpec",
    "DeliverySpecInvalid",
    "deliveries_create",
    "deliveries_sweep",
    "delivery_send",
    "note_spec",
    "properties_spec",
    "retry_delay_s",
    "task_spec",
    "workflow_callback_spec",
]
