# Customer mappings and the default article belong to one Fortnox company (DatabaseNumber).

from django.db import migrations, models


def scope_to_current_company(apps, schema_editor):
    """Existing rows were made with the company connected last (connected or not now)."""
    CustomerMapping = apps.get_model("sync", "CustomerMapping")
    SyncSettings = apps.get_model("sync", "SyncSettings")
    FortnoxConnection = apps.get_model("integrations", "FortnoxConnection")

    def company_of(installation_id):
        connection = (
            FortnoxConnection.objects.filter(installation_id=installation_id)
            .exclude(database_number="")
            .order_by("-pk")
            .first()
        )
        return connection.database_number if connection else ""

    installations = set(CustomerMapping.objects.values_list("installation_id", flat=True))
    for installation_id in installations:
        CustomerMapping.objects.filter(installation_id=installation_id).update(
            fortnox_database_number=company_of(installation_id)
        )
    for sync_settings in SyncSettings.objects.exclude(default_article_number=""):
        sync_settings.default_article_database_number = company_of(sync_settings.installation_id)
        sync_settings.save(update_fields=["default_article_database_number"])


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0001_initial'),
        ('sync', '0007_run_note_in_deliveries'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='customermapping',
            name='one_customer_per_record',
        ),
        migrations.AddField(
            model_name='customermapping',
            name='fortnox_database_number',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.AddField(
            model_name='customermapping',
            name='fields_fingerprint',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.AddField(
            model_name='syncsettings',
            name='default_article_database_number',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.RunPython(scope_to_current_company, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='customermapping',
            constraint=models.UniqueConstraint(fields=('installation', 'fortnox_database_number', 'hubspot_object_type', 'hubspot_object_id'), name='one_customer_per_record_and_company'),
        ),
    ]
