"""The Celery queues, one per kind of work (routes in cloudify/settings/celery.py). A plain module
so that scripts starting a worker outside Django (make demo, make bench) name the same queues."""

# runs: deal runs; deliveries: notes, record properties and workflow callbacks sent after a run;
# connections: install follow-ups; sweeps: beat's safety nets, on their own queue so they are never
# stuck behind the backlog they rescue.
QUEUES = ("default", "runs", "deliveries", "connections", "sweeps")
