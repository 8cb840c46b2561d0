"""The Celery queues, one per kind of work (routes in cloudify/settings/celery.py). A plain module
so that scripts starting a worker outside Django (make demo, make bench) name the same queues."""

QUEUES = ("default", "webhooks", "runs", "notes", "connections", "billing")
