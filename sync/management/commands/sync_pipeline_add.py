"""Add a pipeline to a portal's sync from the command line (the demo, support, scripts).

manage.py sync_pipeline_add 9000001 default --stage closedwon --document invoice
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.models import HubSpotInstallation
from sync.models import DOCUMENT_KINDS, PipelineSetting, RunKind, SyncSettings


class Command(BaseCommand):
    help = "Add (or change) a pipeline in a portal's sync: its trigger stages and document type."

    def add_arguments(self, parser):
        parser.add_argument("hub_id", type=int, help="the HubSpot portal (hub id)")
        parser.add_argument("pipeline_id", help="the deal pipeline's internal id, e.g. default")
        parser.add_argument(
            "--stage",
            action="append",
            required=True,
            help="a trigger stage's internal id (repeat for several), e.g. closedwon",
        )
        parser.add_argument(
            "--document", choices=[k.value for k in DOCUMENT_KINDS], default=RunKind.INVOICE
        )
        parser.add_argument("--label", default="", help="the pipeline's name, for display")

    def handle(self, *args, **options):
        installation = HubSpotInstallation.objects.filter(hub_id=options["hub_id"]).first()
        if installation is None:
            raise CommandError(
                f"The app is not installed in HubSpot portal {options['hub_id']}: install it "
                "first (GET /hubspot/install)."
            )
        sync_settings, _ = SyncSettings.objects.get_or_create(installation=installation)
        setting, created = PipelineSetting.objects.update_or_create(
            settings=sync_settings,
            pipeline_id=options["pipeline_id"],
            defaults={
                "trigger_stage_ids": options["stage"],
                "document_type": options["document"],
                "pipeline_label": options["label"],
            },
        )
        self.stdout.write(
            f"{'Added' if created else 'Updated'} pipeline {setting.pipeline_id} in portal "
            f"{installation.hub_id}: stages {', '.join(setting.trigger_stage_ids)} → "
            f"{setting.get_document_type_display().lower()}."
        )
