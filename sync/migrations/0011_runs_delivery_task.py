from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0010_settings_page_fields"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery",
            name="kind",
            field=models.CharField(
                choices=[
                    ("note", "Note (with its PDF)"),
                    ("properties", "Record properties"),
                    ("workflow_callback", "Workflow callback"),
                    ("task", "Task for the deal owner"),
                ],
                max_length=20,
            ),
        ),
    ]
