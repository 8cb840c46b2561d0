"""The default plans (issue 17): Free 10 (the default), Standard 200, Pro 2,000 documents a
month, in SEK. Staff edit them in Django admin."""

from decimal import Decimal

from django.db import migrations

PLANS = [
    ("free", "Free", 10, Decimal("0.00"), True),
    ("standard", "Standard", 200, Decimal("490.00"), False),
    ("pro", "Pro", 2000, Decimal("1990.00"), False),
]


def plans_create(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for code, name, quota, price, is_default in PLANS:
        Plan.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "monthly_quota": quota,
                "price": price,
                "currency": "SEK",
                "is_default": is_default,
            },
        )


def plans_delete(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    Plan.objects.filter(code__in=[code for code, *_ in PLANS], portals__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_plans_usage_quota")]

    operations = [migrations.RunPython(plans_create, plans_delete)]
