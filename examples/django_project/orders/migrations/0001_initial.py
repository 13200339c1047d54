from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("reference", models.CharField(max_length=64, unique=True)),
                ("customer_id", models.CharField(max_length=64)),
                ("booking_id", models.CharField(blank=True, max_length=64)),
                ("total", models.DecimalField(decimal_places=3, max_digits=20, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
    ]
