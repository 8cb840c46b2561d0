"""Print a portal's connection status, pipelines and latest runs (support and scripts).

manage.py sync_status 9000001
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.models import HubSpotInstallation
from portals.selectors import connection_status_get
from sync.models import PipelineSetting, Run


class Command(BaseCommand):
    help = "Show a portal's installation, Fortnox connection, synced pipelines and latest runs."

    def add_arguments(self, parser):
        parser.add_argument("hub_id", type=int)
        parser.add_argument("--runs", type=int, default=10, help="how many latest runs to list")

    def handle(self, *args, **options):
        installation = HubSpotInstallation.objects.filter(hub_id=options["hub_id"]).first()
        if installation is None:
            raise CommandError(f"The app is not installed in HubSpot portal {options['hub_id']}.")
        status = connection_status_get(installation)
        out = self.stdout.write
        out(f"HubSpot portal {installation.hub_id}: {status['installation_label']}")
        fortnox = status["fortnox"]
        if fortnox["status"] == "not_connected":
            out("Fortnox: not connected")
        else:
            out(
                f"Fortnox company {fortnox['company_name']} ({fortnox['organisation_number']}): "
                f"{fortnox['label']}"
            )
        if status["problem"]:
            out(f"Problem: {status['problem']} Fix: {status['fix']}")
        for pipeline in PipelineSetting.objects.filter(settings__installation=installation):
            out(
                f"Pipeline {pipeline.pipeline_label or pipeline.pipeline_id}: stages "
                f"{', '.join(pipeline.trigger_stage_ids)} → {pipeline.get_document_type_display()}"
            )
        for run in Run.objects.filter(installation=installation).order_by("-pk")[: options["runs"]]:
            outcome = run.fortnox_document_number or run.error_message
            subject = f"{run.get_subject_type_display().lower()} {run.subject_id}"
            out(f"Run {run.pk} {subject} {run.kind} {run.status}: {outcome}")
