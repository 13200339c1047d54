"""Unmanaged models over bookcore's tables, for the admin and for reading in reports.

bookcore's migrations own these tables (``manage.py migrate`` runs them); Django never creates,
alters or writes them. Change bookings through bookcore's services, never through these models.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from django.db import models

from bookcore.contrib.django.fields import MoneyField
from bookcore.model import BookingStatus, PaymentOutcome, RefundMode, WalletEntryKind


def _choices(values: Iterable[StrEnum]) -> list[tuple[str, str]]:
    return [(member.value, member.value.replace("_", " ")) for member in values]


class Booking(models.Model):
    id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    item_id: models.CharField[str, str] = models.CharField(max_length=64)
    customer_id: models.CharField[str, str] = models.CharField(max_length=64)
    quantity: models.IntegerField[int, int] = models.IntegerField()
    status: models.CharField[str, str] = models.CharField(max_length=16, choices=_choices(BookingStatus))
    pricing: models.TextField[str, str] = models.TextField()
    promo_code: models.CharField[str | None, str | None] = models.CharField(max_length=64, null=True)
    total_amount: MoneyField = MoneyField()
    wallet_applied: MoneyField = MoneyField()
    gateway_payable: MoneyField = MoneyField()
    currency: models.CharField[str, str] = models.CharField(max_length=3)
    reserved_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()
    expires_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()
    confirmed_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True)
    expired_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True)
    cancelled_at: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "bookcore_bookings"
        ordering = ("-reserved_at", "-id")

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class Payment(models.Model):
    id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    booking: models.ForeignKey[Booking, Booking] = models.ForeignKey(
        Booking, on_delete=models.DO_NOTHING, db_constraint=False, related_name="payments")
    idempotency_key: models.CharField[str, str] = models.CharField(max_length=128, unique=True)
    fingerprint: models.TextField[str, str] = models.TextField()
    currency: models.CharField[str, str] = models.CharField(max_length=3)
    wallet_amount: MoneyField = MoneyField()
    gateway_amount: MoneyField = MoneyField()
    gateway_reference: models.CharField[str | None, str | None] = models.CharField(max_length=64, null=True)
    outcome: models.CharField[str, str] = models.CharField(max_length=32, choices=_choices(PaymentOutcome))
    reason: models.TextField[str | None, str | None] = models.TextField(null=True)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "bookcore_payments"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.id


class Refund(models.Model):
    id: models.CharField[str, str] = models.CharField(max_length=64, primary_key=True)
    booking: models.ForeignKey[Booking, Booking] = models.ForeignKey(
        Booking, on_delete=models.DO_NOTHING, db_constraint=False, related_name="refunds")
    payment_id: models.CharField[str | None, str | None] = models.CharField(max_length=64, null=True)
    currency: models.CharField[str, str] = models.CharField(max_length=3)
    to_wallet: MoneyField = MoneyField()
    to_gateway: MoneyField = MoneyField()
    mode: models.CharField[str, str] = models.CharField(max_length=16, choices=_choices(RefundMode))
    reason: models.TextField[str, str] = models.TextField()
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "bookcore_refunds"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.id


class WalletEntry(models.Model):
    """One line of a customer's wallet ledger; a balance is the sum of its account's lines."""

    seq: models.BigAutoField[int, int] = models.BigAutoField(primary_key=True)
    id: models.CharField[str, str] = models.CharField(max_length=64, unique=True)
    customer_id: models.CharField[str, str] = models.CharField(max_length=64)
    currency: models.CharField[str, str] = models.CharField(max_length=3)
    kind: models.CharField[str, str] = models.CharField(max_length=8, choices=_choices(WalletEntryKind))
    amount: MoneyField = MoneyField()
    reason: models.TextField[str, str] = models.TextField()
    booking_id: models.CharField[str | None, str | None] = models.CharField(max_length=64, null=True)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "bookcore_wallet_entries"
        ordering = ("-seq",)
        verbose_name_plural = "wallet entries"

    def __str__(self) -> str:
        return self.id

