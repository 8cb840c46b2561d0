"""Personal data in the run history: how long it is kept (sync/privacy.py scrubs it).

Runs, their steps and HubSpot's webhook events quote customers' names, e-mails and addresses;
after these periods only the audit row stays (ids, status, times, amounts, document numbers).
"""

from __future__ import annotations

from cloudify.env import env

# Days a finished run and a webhook event keep the personal data they read: long enough for
# support to answer questions about a quarter's invoices, then only the audit row stays.
PERSONAL_DATA_RETENTION_DAYS = env.int(
    "PERSONAL_DATA_RETENTION_DAYS",
    90,
    minimum=1,
    meaning="days a run keeps the customer data it read",
)

# Days after HubSpot refused a portal's tokens (the app was uninstalled) before its runs and
# events are scrubbed and its Fortnox tokens revoked. 30: an accidental uninstall can be undone
# by installing again within a month without reconnecting Fortnox, and a Fortnox refresh token
# still in use at the uninstall (they live 45 days: fortnox-api.md §1.4) is revoked while it
# works, instead of being left to lapse.
UNINSTALL_SCRUB_DAYS = env.int(
    "UNINSTALL_SCRUB_DAYS",
    30,
    minimum=0,
    meaning="days after an uninstall before the portal's data is scrubbed",
)
