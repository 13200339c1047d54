"""bookcore's own schema, by bookcore's own Alembic migrations, then the unmanaged models over it.

Alembic records its revision in ``bookcore_alembic_version``, so on a database that ``bookcore db
upgrade`` (or ``bookcore.migrate``) has already brought to head this does nothing, and a later
``bookcore db upgrade`` finds nothing to do either. Unapplying it leaves bookcore's tables alone.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import bookcore.contrib.django.fields


def upgrade_bookcore(_apps: Any, schema_editor: Any) -> None:
    from bookcore.adapters.sqlalchemy.migrate import migrate
    from bookcore.contrib.django.connection import engine_for

    migrate(engine_for(schema_editor.connection.alias))


def _money() -> bookcore.contrib.django.fields.MoneyField:
    return bookcore.contrib.django.fields.MoneyField(decimal_places=3, max_digits=20)


class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.RunPython(upgrade_bookcore, migrations.RunPython.noop, elidable=False),
        migrations.CreateModel(
            name="Booking",
            fields=[
                ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("item_id", models.CharField(max_length=64)),
                ("customer_id", models.CharField(max_length=64)),
                ("quantity", models.IntegerField()),
                ("status", models.CharField(max_length=16, choices=[
                    ("held", "held"), ("confirmed", "confirmed"), ("expired", "expired"),
                    ("cancelled", "cancelled")])),
                ("pricing", models.TextField()),
                ("promo_code", models.CharField(max_length=64, null=True)),
                ("total_amount", _money()),
                ("wallet_applied", _money()),
                ("gateway_payable", _money()),
                ("currency", models.CharField(max_length=3)),
                ("reserved_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField()),
                ("confirmed_at", models.DateTimeField(null=True)),
                ("expired_at", models.DateTimeField(null=True)),
                ("cancelled_at", models.DateTimeField(null=True)),
            ],
            options={"db_table": "bookcore_bookings", "ordering": ("-reserved_at", "-id"),
                     "managed": False},
        ),
        migrations.CreateModel(
            name="Payment",
            fields=[
                ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("booking", models.ForeignKey(db_constraint=False, on_delete=models.DO_NOTHING,
                                              related_name="payments", to="bookcore.booking")),
                ("idempotency_key", models.CharField(max_length=128, unique=True)),
                ("fingerprint", models.TextField()),
                ("currency", models.CharField(max_length=3)),
                ("wallet_amount", _money()),
                ("gateway_amount", _money()),
                ("gateway_reference", models.CharField(max_length=64, null=True)),
                ("outcome", models.CharField(max_length=32, choices=[
                    ("confirmed", "confirmed"), ("confirmed_late", "confirmed late"),
                    ("credited_to_wallet", "credited to wallet"),
                    ("gateway_refund_required", "gateway refund required")])),
                ("reason", models.TextField(null=True)),
                ("created_at", models.DateTimeField()),
            ],
            options={"db_table": "bookcore_payments", "ordering": ("-created_at", "-id"),
                     "managed": False},
        ),
        migrations.CreateModel(
            name="Refund",
            fields=[
                ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("booking", models.ForeignKey(db_constraint=False, on_delete=models.DO_NOTHING,
                                              related_name="refunds", to="bookcore.booking")),
                ("payment_id", models.CharField(max_length=64, null=True)),
                ("currency", models.CharField(max_length=3)),
                ("to_wallet", _money()),
                ("to_gateway", _money()),
                ("mode", models.CharField(max_length=16, choices=[("wallet", "wallet"),
                                                                  ("original", "original")])),
                ("reason", models.TextField()),
                ("created_at", models.DateTimeField()),
            ],
            options={"db_table": "bookcore_refunds", "ordering": ("-created_at", "-id"),
                     "managed": False},
        ),
        migrations.CreateModel(
            name="WalletEntry",
            fields=[
                ("seq", models.BigAutoField(primary_key=True, serialize=False)),
                ("id", models.CharField(max_length=64, unique=True)),
                ("customer_id", models.CharField(max_length=64)),
                ("currency", models.CharField(max_length=3)),
                ("kind", models.CharField(max_length=8, choices=[("credit", "credit"),
                                                                 ("debit", "debit")])),
                ("amount", _money()),
                ("reason", models.TextField()),
                ("booking_id", models.CharField(max_length=64, null=True)),
                ("created_at", models.DateTimeField()),
            ],
            options={"db_table": "bookcore_wallet_entries", "ordering": ("-seq",),
                     "verbose_name_plural": "wallet entries", "managed": False},
        ),
    ]
