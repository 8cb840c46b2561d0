"""Celery: Redis when REDIS_URL is set, otherwise a broker that needs no server.

The embedded default uses kombu's filesystem transport under VAR_DIR, so `make run` runs a real
worker process (not eager mode) on a machine with nothing installed.
"""

from __future__ import annotations

from cloudify.env import env
from cloudify.queues import QUEUES
from cloudify.schedules import SwedishCrontab
from cloudify.settings.base import VAR_DIR

REDIS_URL = env.str("REDIS_URL", dev_default="")
BROKER_DIR = VAR_DIR / "broker"

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # With acks_late a task is redelivered only after this; keep it above the hard limit.
        "visibility_timeout": 3600,
    }
else:
    for folder in ("queue", "processed", "results", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    CELERY_RESULT_BACKEND = f"file://{BROKER_DIR / 'results'}"

# Tasks of the project package itself (apps' tasks modules are autodiscovered).
CELERY_IMPORTS = ("cloudify.tasks",)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_RESULT_EXPIRES = 3600
# A task is acknowledged after it finished, so a worker killed mid-run gives the task to
# another worker; our tasks are written to be safe to run twice.
# Workers log through Django's LOGGING (request/run ids, JSON in production, redaction).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers run Celery's threads pool (`--pool threads` in every worker command: Procfile.dev,
# docker-compose.yml, scripts/processes.py, the tests): one process whatever the concurrency, as
# the tasks wait on HubSpot and Fortnox rather than the CPU (README.md, "The worker"). These
# time limits do nothing in that pool (celery#9203): an attempt ends by its deadline, every call
# bounded by the run's lease (integrations/deadline.py, tests/sync/test_lease_e2e.py). They
# still apply to a prefork worker. (Not set as CELERY_WORKER_POOL: Celery would then take that
# over a command's `--pool prefork`.)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 180)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# One queue per kind of work (cloudify/queues.py), so a burst of document runs never delays the
# notes of finished runs, install follow-ups or the sweeps. Only tasks that exist are routed.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_QUEUES_ALL = QUEUES
CELERY_TASK_ROUTES = {
    "sync.tasks.run_execute_task": {"queue": "runs"},
    "sync.tasks.runs_sweep_task": {"queue": "sweeps"},
    "sync.tasks.delivery_send_task": {"queue": "deliveries"},
    "sync.tasks.deliveries_sweep_task": {"queue": "sweeps"},
    "sync.tasks.bulk_syncs_sweep_task": {"queue": "sweeps"},
    # Deciding stored webhook events is short database work that starts runs: not behind them.
    "sync.tasks.webhook_events_decide_task": {"queue": "default"},
    "sync.tasks.webhook_events_sweep_task": {"queue": "sweeps"},
    "portals.tasks.*": {"queue": "connections"},
}
CELERY_BEAT_SCHEDULE: dict = {
    # Sends again the runs whose task or worker was lost (sync/dispatch.py).
    "sync-runs-sweep": {"task": "sync.tasks.runs_sweep_task", "schedule": 60.0},
    # Sends again the deliveries whose task or worker was lost (sync/deliveries.py).
    "sync-deliveries-sweep": {"task": "sync.tasks.deliveries_sweep_task", "schedule": 60.0},
    # Resumes the bulk syncs whose worker died, closes finished ones (sync/bulk.py).
    "sync-bulk-syncs-sweep": {"task": "sync.tasks.bulk_syncs_sweep_task", "schedule": 60.0},
    # Decides the webhook events a lost publish or a dead worker left undecided (sync/webhooks.py).
    "sync-webhook-events-sweep": {"task": "sync.tasks.webhook_events_sweep_task", "schedule": 60.0},
}
# Fair dispatch: at most this many runs of one HubSpot portal execute at once, so a portal with
# hundreds of deals in flight leaves the other workers to other portals (sync/dispatch.py).
# Three keep one Fortnox company at its pace (integrations/ratelimit.py).
SYNC_RUNS_PER_PORTAL = env.int(
    "SYNC_RUNS_PER_PORTAL", 3, minimum=1, meaning="runs of one portal that may execute at once"
)
# Deal runs first: a bulk sync's runs make at most this many Fortnox calls per second per
# company (in any second), of the 4.6 the app makes at most (integrations/ratelimit.py).
FORTNOX_BULK_CALLS_PER_S = env.int(
    "FORTNOX_BULK_CALLS_PER_S",
    2,
    minimum=1,
    meaning="Fortnox calls per second a bulk sync may make per Fortnox company",
)
# A run whose attempt met a transient failure (HubSpot or Fortnox down, rate limited) is tried
# again after about this long, each next time twice as long, at most 5 min (sync/dispatch.py).
SYNC_RETRY_BASE_S = env.int(
    "SYNC_RETRY_BASE_S", 15, minimum=1, meaning="seconds before the first retry of a run"
)
# Deliveries (notes, record properties, workflow callbacks): the first retry after a transient
# HubSpot failure waits about this long, each next one twice as long (sync/deliveries.py).
DELIVERY_RETRY_BASE_S = env.int(
    "DELIVERY_RETRY_BASE_S", 10, minimum=1, meaning="seconds before the first retry of a delivery"
)
# How long one attempt of a run holds it (sync/dispatch.py). Every HubSpot or Fortnox call of the
# attempt ends 15 s before (integrations/deadline.py), which is what ends an attempt in the
# threads pool; past it, the sweep gives the run to another worker. Longer than the hard time
# limit, so a prefork worker (if one is run) is killed before its lease ends too.
SYNC_ATTEMPT_LEASE_S = env.int(
    "SYNC_ATTEMPT_LEASE_S",
    CELERY_TASK_TIME_LIMIT + 60,
    minimum=30,
    meaning="seconds one attempt of a run may take",
)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Personal data past its retention, and of portals uninstalled longer than the grace period, is
# scrubbed once a day (sync/privacy.py; periods in cloudify/settings/privacy.py).
CELERY_TASK_ROUTES["sync.tasks.personal_data_scrub_task"] = {"queue": "sweeps"}
CELERY_BEAT_SCHEDULE["sync-personal-data-scrub"] = {
    "task": "sync.tasks.personal_data_scrub_task",
    "schedule": 24 * 60 * 60.0,
}


# The customers' figures and the deals' payment status, from what changed in each Fortnox
# company since the last night (sync/figures.py), at 02:30 Swedish time, at the bulk share of
# the company's pace.
CELERY_TASK_ROUTES["sync.tasks.figures_nightly_task"] = {"queue": "sweeps"}
# A portal's refresh may take long at the bulk pace: on the default queue, never holding up
# the sweeps.
CELERY_TASK_ROUTES["sync.tasks.figures_nightly_portal_task"] = {"queue": "default"}
CELERY_BEAT_SCHEDULE["sync-figures-nightly"] = {
    "task": "sync.tasks.figures_nightly_task",
    "schedule": SwedishCrontab(minute=30, hour=2),
}
