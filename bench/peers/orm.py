"""The ORM pattern's operations, in a process that configured Django for one database."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import django
from django.conf import settings
from sqlalchemy import make_url

from bench.backends import SQLITE_BUSY_TIMEOUT_S, Target
from bench.work import CURRENCY, GATEWAY_PAYABLE, plain_pricing

HOLD_TTL = timedelta(minutes=10)
PAID = ("confirmed", "confirmed_late")


class PeerFailed(Exception):
    """The ORM pattern met a state the benchmark never sets up (a bug in the harness)."""


def configure(target: Target) -> None:
    """Django for ``target``'s database in this process, as a deployed app has it: persistent
    connections; on SQLite, WAL, bookcore's ``synchronous`` and ``BEGIN IMMEDIATE`` transactions."""
    url = make_url(target.url)
    if target.kind == "sqlite":
        database: dict[str, Any] = {
            "ENGINE": "django.db.backends.sqlite3", "NAME": url.database,
            "OPTIONS": {"timeout": SQLITE_BUSY_TIMEOUT_S, "transaction_mode": "IMMEDIATE",
                        "init_command": f"PRAGMA journal_mode = WAL; "
                                        f"PRAGMA synchronous = {target.sqlite_synchronous}"}}
    else:
        database = {"ENGINE": "django.db.backends.postgresql", "NAME": url.database,
                    "USER": url.username or "", "PASSWORD": url.password or "", "HOST": url.host or "",
                    "PORT": str(url.port or ""), "CONN_MAX_AGE": None}
    settings.configure(DATABASES={"default": database}, INSTALLED_APPS=["bench.peers"], USE_TZ=True,
                       DEFAULT_AUTO_FIELD="django.db.models.BigAutoField")
    django.setup()


def create_tables(target: Target) -> None:
    """The ``peer_`` tables, by Django's schema editor (run in a process of its own)."""
    configure(target)
    from django.db import connection

    from bench.peers.models import MODELS

    with connection.schema_editor() as editor:
        for model in MODELS:
            editor.create_model(model)


def _new_id() -> str:
    return os.urandom(16).hex()


class OrmPattern:
    """The operations; Django must be configured in this process first (``configure``)."""

    def __init__(self) -> None:
        from django.db import connection

        connection.ensure_connection()

    def close(self) -> None:
        from django.db import connections

        connections.close_all()

    def hold(self, item_id: str, customer: str) -> None:
        from django.db import transaction

        from bench.peers.models import Booking, Item, Wallet

        now = datetime.now(UTC)
        with transaction.atomic():
            item = Item.objects.select_for_update().get(id=item_id)
            if item.available < 1:
                raise PeerFailed(f"item {item_id} is sold out")
            wallet = Wallet.objects.filter(customer_id=customer, currency=item.currency).first()
            pricing, applied = plain_pricing(item.unit_price, 1, item.currency,
                                             wallet.balance if wallet else Decimal(0), now)
            item.available -= 1
            item.save(update_fields=["available"])
            Booking.objects.create(
                id=_new_id(), item=item, customer_id=customer, quantity=1, status="held", pricing=pricing,
                currency=item.currency, total_amount=item.unit_price, wallet_applied=applied,
                gateway_payable=item.unit_price - applied, reserved_at=now, expires_at=now + HOLD_TTL)

    def finalize(self, booking_id: str) -> None:
        from django.db import transaction

        from bench.peers.models import Booking, Payment, Wallet, WalletEntry

        now, key = datetime.now(UTC), f"{booking_id}-key"
        with transaction.atomic():
            booking = Booking.objects.select_for_update().get(id=booking_id)
            if Payment.objects.filter(idempotency_key=key).exists():
                return  # a replay: the first call's result stands
            if booking.status != "held" or booking.expires_at <= now or booking.currency != CURRENCY \
                    or booking.gateway_payable != GATEWAY_PAYABLE:
                raise PeerFailed(f"booking {booking_id} cannot be confirmed")
            wallet = Wallet.objects.select_for_update().get(customer_id=booking.customer_id,
                                                            currency=booking.currency)
            if wallet.balance < booking.wallet_applied:
                raise PeerFailed(f"the wallet of {booking.customer_id} is short")
            wallet.balance -= booking.wallet_applied
            wallet.save(update_fields=["balance"])
            WalletEntry.objects.create(customer_id=booking.customer_id, currency=booking.currency,
                                       kind="debit", amount=booking.wallet_applied,
                                       reason="booking payment", booking_id=booking.id, created_at=now)
            Payment.objects.create(id=_new_id(), booking=booking, idempotency_key=key,
                                   currency=booking.currency, wallet_amount=booking.wallet_applied,
                                   gateway_amount=GATEWAY_PAYABLE, outcome="confirmed", created_at=now)
            booking.status, booking.confirmed_at = "confirmed", now
            booking.save(update_fields=["status", "confirmed_at"])

    def cancel(self, booking_id: str, customer: str) -> None:
        from django.db import transaction
        from django.db.models import F, Sum

        from bench.peers.models import Booking, Item, Payment, Refund, Wallet, WalletEntry

        now = datetime.now(UTC)
        with transaction.atomic():
            booking = Booking.objects.select_for_update().get(id=booking_id)
            if booking.customer_id != customer or booking.status not in ("held", "confirmed"):
                raise PeerFailed(f"booking {booking_id} cannot be cancelled")
            old_status = booking.status
            booking.status, booking.cancelled_at = "cancelled", now
            booking.save(update_fields=["status", "cancelled_at"])
            Item.objects.filter(id=booking.item_id).update(available=F("available") + booking.quantity)
            paid = Payment.objects.filter(booking=booking, outcome__in=PAID).aggregate(
                total=Sum(F("wallet_amount") + F("gateway_amount")))["total"] or Decimal(0)
            if old_status != "confirmed" or not paid:
                return
            Refund.objects.create(id=_new_id(), booking=booking, currency=booking.currency, to_wallet=paid,
                                  to_gateway=Decimal(0), mode="wallet", reason="cancellation", created_at=now)
            wallet, _ = Wallet.objects.select_for_update().get_or_create(
                customer_id=customer, currency=booking.currency, defaults={"balance": Decimal(0)})
            wallet.balance += paid
            wallet.save(update_fields=["balance"])
            WalletEntry.objects.create(customer_id=customer, currency=booking.currency, kind="credit",
                                       amount=paid, reason="cancellation refund", booking_id=booking.id,
                                       created_at=now)

    def expire(self, now: datetime, batch_size: int) -> tuple[int, int]:
        """Lapsed holds expired and their units released, a batch per transaction, as a cron
        command would: lock a batch, mark it, give the units back. Returns (expired, batches)."""
        from django.db import transaction

        from bench.peers.models import Booking, Item

        expired = batches = 0
        while True:
            with transaction.atomic():
                lapsed = list(Booking.objects.select_for_update()
                              .filter(status="held", expires_at__lte=now)
                              .values_list("id", "item_id", "quantity")[:batch_size])
                Booking.objects.filter(id__in=[row[0] for row in lapsed]).update(
                    status="expired", expired_at=now)
                units = Counter[str]()
                for _id, item_id, quantity in lapsed:
                    units[item_id] += quantity
                items = list(Item.objects.select_for_update().filter(id__in=units).order_by("id"))
                for item in items:
                    item.available += units[item.id]
                Item.objects.bulk_update(items, ["available"])
            expired, batches = expired + len(lapsed), batches + 1
            if len(lapsed) < batch_size:
                return expired, batches
