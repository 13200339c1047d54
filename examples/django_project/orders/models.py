from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import models


class Order(models.Model):
    """The shop's own record of a purchase; its booking lives in bookcore."""

    reference: models.CharField[str, str] = models.CharField(max_length=64, unique=True)
    customer_id: models.CharField[str, str] = models.CharField(max_length=64)
    booking_id: models.CharField[str, str] = models.CharField(max_length=64, blank=True)
    total: models.DecimalField[Decimal | None, Decimal | None] = models.DecimalField(
        max_digits=20, decimal_places=3, null=True)
    created_at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now_add=True)
