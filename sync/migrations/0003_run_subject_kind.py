# A run works on a subject (HubSpot object type and id) and has a kind, so customer and product
# syncs can share the run row, its steps, Replay and history with deal runs.

from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("sync", "0002_run_fair_dispatch"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="run", name="one_live_run_per_deal_trigger"),
        migrations.RemoveIndex(model_name="run", name="sync_run_install_743162_idx"),
        migrations.RenameField(model_name="run", old_name="deal_id", new_name="subject_id"),
        migrations.RenameField(model_name="run", old_name="document_type", new_name="kind"),
        migrations.AlterField(
            model_name="run",
            name="kind",
            field=models.CharField(
                choices=[("invoice", "Invoice"), ("order", "Order")], max_length=20
            ),
        ),
        migrations.AddField(
            model_name="run",
            name="subject_type",
            field=models.CharField(
                choices=[
                    ("deals", "Deal"),
                    ("companies", "Company"),
                    ("contacts", "Contact"),
                    ("products", "Product"),
                ],
                default="deals",
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                fields=["installation", "subject_type", "subject_id"],
                name="sync_run_install_subject_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="run",
            constraint=models.UniqueConstraint(
                condition=Q(("status__in", ["queued", "running", "succeeded"])),
                fields=("installation", "subject_type", "subject_id", "kind", "trigger_key"),
                name="one_live_run_per_subject_trigger",
            ),
        ),
    ]
