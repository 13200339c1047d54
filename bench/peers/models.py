"""The ORM pattern's models: bookcore's tables as a Django app would declare them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import models


def money() -> models.DecimalField[Decimal, Decimal]:
    return models.DecimalField(max_digits=14, decimal_places=2)


class Item(models.Model):
    id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    name: models.TextField[str, str] = models.TextField()
    capacity: models.IntegerField[int, int] = models.IntegerField()
    available: models.IntegerField[int, int] = models.IntegerField()
    unit_price: models.DecimalField[Decimal, Decimal] = money()
    currency: models.CharField[str, str] = models.CharField(max_length=3)

    class Meta:
        app_label = "peers"
        db_table = "peer_items"


class Booking(models.Model):
    id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    item: models.ForeignKey[Item, Item] = models.ForeignKey(Item, on_delete=models.PROTECT)
    item_id: str  # the column Django adds for ``item``
    customer_id: models.CharField[str, str] = models.CharField(max_length=64, db_index=True)
    quantity: models.IntegerField[int, int] = models.IntegerField()
    status: models.CharField[str, str] = models.CharField(max_length=16)
    pricing: models.TextField[str, str] = models.TextField()
    currency: models.CharField[str, str] = models.CharField(max_length=3)
    total_amount: models.DecimalField[Decimal, Decimal] = money()
    wallet_applied: models.DecimalField[Decimal, Decimal] = money()
    gateway_payable: models.DecimalField[Decimal, Decimal] = money()
    reserved_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()
    expires_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()
    confirmed_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True)
    expired_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True)
    cancelled_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True)

    class Meta:
        app_label = "peers"
        db_table = "peer_bookings"
        indexes = (models.Index(fields=["status", "expires_at"], name="peer_bookings_expiry"),)


class Wallet(models.Model):
    customer_id: models.CharField[str, str] = models.CharField(max_length=64)
    currency: models.CharField[str, str] = models.CharField(max_length=3)
    balance: models.DecimalField[Decimal, Decimal] = money()

    class Meta:
        app_label = "peers"
        db_table = "peer_wallets"
        constraints = (
            models.UniqueConstraint(fields=["customer_id", "currency"], name="peer_wallet_once"),
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="peer_balance_not_negative"))


class WalletEntry(models.Model):
    customer_id: models.CharField[str, str] = models.CharField(max_length=64)
    currency: models.CharField[str, str] = models.CharField(max_length=3)
    kind: models.CharField[str, str] = models.CharField(max_length=8)
    amount: models.DecimalField[Decimal, Decimal] = money()
    reason: models.TextField[str, str] = models.TextField()
    booking_id: models.CharField[str | None, str | None] = models.CharField(max_length=64, null=True)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()

    class Meta:
        app_label = "peers"
        db_table = "peer_wallet_entries"


class Payment(models.Model):
    id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    booking: models.ForeignKey[Booking, Booking] = models.ForeignKey(Booking, on_delete=models.PROTECT)
    idempotency_key: models.CharField[str, str] = models.CharField(max_length=128, unique=True)
    currency: models.CharField[str, str] = models.CharField(max_length=3)
    wallet_amount: models.DecimalField[Decimal, Decimal] = money()
    gateway_amount: models.DecimalField[Decimal, Decimal] = money()
    outcome: models.CharField[str, str] = models.CharField(max_length=32)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()

    class Meta:
        app_label = "peers"
        db_table = "peer_payments"


class Refund(models.Model):
    id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    booking: models.ForeignKey[Booking, Booking] = models.ForeignKey(Booking, on_delete=models.PROTECT)
    currency: models.CharField[str, str] = models.CharField(max_length=3)
    to_wallet: models.DecimalField[Decimal, Decimal] = money()
    to_gateway: models.DecimalField[Decimal, Decimal] = money()
    mode: models.CharField[str, str] = models.CharField(max_length=16)
    reason: models.TextField[str, str] = models.TextField()
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()

    class Meta:
        app_label = "peers"
        db_table = "peer_refunds"


MODELS = (Item, Booking, Wallet, WalletEntry, Payment, Refund)
