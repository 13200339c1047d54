"""The in-memory reference adapter: the behaviour every SQL adapter is tested against.

Transactions are serializable: a unit of work takes the store's lock on entry, works on copies of
the tables and swaps them in on commit, so a rollback (or an exception) leaves nothing behind.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Self

from bookcore.errors import AlreadyExists, IdempotencyConflict, StorageError
from bookcore.logs import Event
from bookcore.model import (
    PAID_OUTCOMES,
    Booking,
    BookingStatus,
    ExpiredHold,
    InventoryItem,
    Payment,
    Refund,
    WalletEntry,
)
from bookcore.money import ZERO
from bookcore.ports import BookingMoney, GatewayMoney, ItemOccupancy, WalletTotal
from bookcore.promos import PromoCode, PromoUsage
from bookcore.stored_events import StoredEvent, booking_of, payload_json


@dataclass
class _Tables:
    items: dict[str, InventoryItem] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    balances: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    entries: list[WalletEntry] = field(default_factory=list)
    payments: dict[str, Payment] = field(default_factory=dict)
    refunds: list[Refund] = field(default_factory=list)
    promos: dict[str, PromoCode] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    cursors: dict[str, int] = field(default_factory=dict)

    def copy(self) -> _Tables:
        # Values are immutable, so copying the containers is a full snapshot.
        return replace(self, items=dict(self.items), bookings=dict(self.bookings),
                       balances=dict(self.balances), entries=list(self.entries),
                       payments=dict(self.payments), refunds=list(self.refunds),
                       promos=dict(self.promos), events=list(self.events),
                       cursors=dict(self.cursors))


class InMemoryStore:
    """Shared state for any number of ``InMemoryUnitOfWork`` objects (threads included)."""

    def __init__(self) -> None:
        self.tables = _Tables()
        self.lock = threading.RLock()


class _InventoryRepository:
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, item: InventoryItem) -> None:
        if item.id in self._tables.items:
            raise AlreadyExists("an inventory item with this id exists", item_id=item.id)
        self._tables.items[item.id] = item

    def get(self, item_id: str) -> InventoryItem | None:
        return self._tables.items.get(item_id)

    def take(self, item_id: str, quantity: int) -> bool:
        item = self._tables.items.get(item_id)
        if item is None or item.available < quantity:
            return False
        self._tables.items[item_id] = item.model_copy(update={"available": item.available - quantity})
        return True

    def release(self, units: Mapping[str, int]) -> None:
        for item_id in sorted(units):
            item = self._tables.items.get(item_id)
            if item is None or item.available + units[item_id] > item.capacity:
                raise StorageError("release would exceed capacity (or an item is missing)",
                                   item_id=item_id, quantity=units[item_id])
            self._tables.items[item_id] = item.model_copy(
                update={"available": item.available + units[item_id]})

    def list(self) -> Sequence[InventoryItem]:
        return sorted(self._tables.items.values(), key=lambda item: item.id)


class _BookingRepository:
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, booking: Booking) -> None:
        if booking.id in self._tables.bookings:
            raise AlreadyExists("a booking with this id exists", booking_id=booking.id)
        self._tables.bookings[booking.id] = booking

    def get(self, booking_id: str, *, for_update: bool = False) -> Booking | None:
        return self._tables.bookings.get(booking_id)

    def save(self, booking: Booking, *, expected_status: BookingStatus) -> bool:
        stored = self._tables.bookings.get(booking.id)
        if stored is None or stored.status is not expected_status:
            return False
        self._tables.bookings[booking.id] = booking
        return True

    def claim_lapsed(self, now: datetime, limit: int, *, item_id: str | None = None) -> list[ExpiredHold]:
        lapsed = sorted(
            (b for b in self._tables.bookings.values()
             if b.status is BookingStatus.HELD and b.expires_at <= now
             and (item_id is None or b.item_id == item_id)),
            key=lambda b: (b.expires_at, b.id),
        )[:max(limit, 0)]
        return [ExpiredHold(b.id, b.item_id, b.customer_id, b.quantity) for b in lapsed]

    def mark_expired(self, booking_ids: Sequence[str], now: datetime) -> None:
        for booking_id in booking_ids:
            booking = self._tables.bookings[booking_id]
            if booking.status is not BookingStatus.HELD:
                raise StorageError("a claimed hold was no longer held", booking_id=booking_id)
            self._tables.bookings[booking_id] = booking.moved_to(BookingStatus.EXPIRED, now)

    def count_lapsed(self, now: datetime) -> tuple[int, int]:
        lapsed = [b for b in self._tables.bookings.values()
                  if b.status is BookingStatus.HELD and b.expires_at <= now]
        return len(lapsed), sum(b.quantity for b in lapsed)

    def promo_usage(self, code: str, customer_id: str, now: datetime) -> PromoUsage:
        using = [b for b in self._tables.bookings.values() if b.promo_code == code
                 and (b.status is BookingStatus.CONFIRMED or b.is_live(now))]
        return PromoUsage(total=len(using),
                          by_customer=sum(1 for b in using if b.customer_id == customer_id))

    def list(self, *, status: BookingStatus | None = None, customer_id: str | None = None,
             limit: int = 100) -> Sequence[Booking]:
        found = [b for b in self._tables.bookings.values()
                 if (status is None or b.status is status)
                 and (customer_id is None or b.customer_id == customer_id)]
        return sorted(found, key=lambda b: (b.reserved_at, b.id))[:limit]

    def newest(self, *, customer_id: str, status: BookingStatus | None,
               before: tuple[datetime, str] | None, limit: int) -> Sequence[Booking]:
        found = [b for b in self._tables.bookings.values() if b.customer_id == customer_id
                 and (status is None or b.status is status)
                 and (before is None or (b.reserved_at, b.id) < before)]
        return sorted(found, key=lambda b: (b.reserved_at, b.id), reverse=True)[:limit]


class _WalletRepository:
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def balance(self, customer_id: str, currency: str, *, for_update: bool = False) -> Decimal:
        return self._tables.balances.get((customer_id, currency), ZERO)

    def append(self, entry: WalletEntry) -> bool:
        key = (entry.customer_id, entry.currency)
        new_balance = self._tables.balances.get(key, ZERO) + entry.signed_amount
        if new_balance < 0:
            return False
        self._tables.balances[key] = new_balance
        self._tables.entries.append(entry)
        return True

    def entries(self, customer_id: str, currency: str) -> Sequence[WalletEntry]:
        return [e for e in self._tables.entries
                if e.customer_id == customer_id and e.currency == currency]


class _PaymentRepository:
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, payment: Payment) -> None:
        if payment.idempotency_key in self._tables.payments:
            raise IdempotencyConflict("idempotency key already used",
                                      idempotency_key=payment.idempotency_key)
        self._tables.payments[payment.idempotency_key] = payment

    def get_by_key(self, idempotency_key: str) -> Payment | None:
        return self._tables.payments.get(idempotency_key)

    def for_booking(self, booking_id: str) -> Sequence[Payment]:
        return sorted((p for p in self._tables.payments.values() if p.booking_id == booking_id),
                      key=lambda p: (p.created_at, p.id))


class _RefundRepository:
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, refund: Refund) -> None:
        self._tables.refunds.append(refund)

    def get(self, refund_id: str, *, for_update: bool = False) -> Refund | None:
        return next((r for r in self._tables.refunds if r.id == refund_id), None)

    def for_booking(self, booking_id: str) -> Sequence[Refund]:
        return [r for r in self._tables.refunds if r.booking_id == booking_id]

    def owed(self) -> Sequence[Refund]:
        return sorted((r for r in self._tables.refunds if r.owed_to_gateway),
                      key=lambda r: (r.created_at, r.id))

    def mark_executed(self, refund_id: str, refund_reference: str, executed_at: datetime) -> bool:
        for index, refund in enumerate(self._tables.refunds):
            if refund.id == refund_id and refund.executed_at is None:
                self._tables.refunds[index] = refund.model_copy(update={
                    "executed_at": executed_at, "refund_reference": refund_reference})
                return True
        return False


class _PromoRepository:
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def add(self, promo: PromoCode) -> None:
        if promo.code in self._tables.promos:
            raise AlreadyExists("a promo code with this code exists", code=promo.code)
        self._tables.promos[promo.code] = promo

    def get(self, code: str, *, for_update: bool = False) -> PromoCode | None:
        return self._tables.promos.get(code)


class _AuditQueries:
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def item_occupancy(self) -> Sequence[ItemOccupancy]:
        rows = []
        for item in sorted(self._tables.items.values(), key=lambda i: i.id):
            units = {status: sum(b.quantity for b in self._tables.bookings.values()
                                 if b.item_id == item.id and b.status is status)
                     for status in (BookingStatus.HELD, BookingStatus.CONFIRMED)}
            rows.append(ItemOccupancy(item.id, item.capacity, item.available,
                                      units[BookingStatus.HELD], units[BookingStatus.CONFIRMED]))
        return rows

    def wallet_totals(self) -> Sequence[WalletTotal]:
        sums: dict[tuple[str, str], Decimal] = {}
        for entry in self._tables.entries:
            key = (entry.customer_id, entry.currency)
            sums[key] = sums.get(key, ZERO) + entry.signed_amount
        keys = sorted(set(sums) | set(self._tables.balances))
        return [WalletTotal(c, cur, self._tables.balances.get((c, cur), ZERO), sums.get((c, cur), ZERO))
                for c, cur in keys]

    def booking_count(self) -> int:
        return len(self._tables.bookings)

    def booking_money(self) -> Sequence[BookingMoney]:
        rows = []
        for booking in sorted(self._tables.bookings.values(), key=lambda b: b.id):
            payments = [p for p in self._tables.payments.values() if p.booking_id == booking.id]
            refunds = [r for r in self._tables.refunds if r.booking_id == booking.id]
            if booking.status is not BookingStatus.CONFIRMED and not payments and not refunds:
                continue
            rows.append(BookingMoney(
                booking.id, booking.status, booking.pricing.total_amount,
                sum((p.wallet_amount + p.gateway_amount for p in payments
                     if p.outcome in PAID_OUTCOMES), ZERO),
                sum((p.wallet_amount + p.gateway_amount for p in payments), ZERO),
                sum((r.total for r in refunds), ZERO),
                sum(1 for r in refunds if r.reason == "cancellation")))
        return rows

    def holds_lapsed_before(self, moment: datetime) -> int:
        return sum(1 for b in self._tables.bookings.values()
                   if b.status is BookingStatus.HELD and b.expires_at < moment)

    def gateway_money(self) -> Sequence[GatewayMoney]:
        payments = {p.id: p for p in self._tables.payments.values()}
        unplaced = [r for r in self._tables.refunds if r.payment_id in payments
                    and payments[r.payment_id].outcome not in PAID_OUTCOMES]
        rows = []
        for currency in sorted({p.currency for p in payments.values()}):
            mine = [p for p in payments.values() if p.currency == currency]
            back = [r for r in unplaced if r.currency == currency]
            rows.append(GatewayMoney(
                currency, sum((p.gateway_amount for p in mine), ZERO),
                sum((p.gateway_amount for p in mine if p.outcome in PAID_OUTCOMES), ZERO),
                sum((r.to_wallet for r in back), ZERO),
                sum((r.to_gateway for r in back if r.executed_at is None), ZERO),
                sum((r.to_gateway for r in back if r.executed_at is not None), ZERO)))
        return rows


class _EventLog:
    def __init__(self, tables: _Tables) -> None:
        self._tables = tables

    def append(self, events: Sequence[Event], recorded_at: datetime) -> None:
        for item in events:
            self._tables.events.append(StoredEvent.trusted(
                position=len(self._tables.events) + 1, name=item.tag, booking_id=booking_of(item),
                payload=json.loads(payload_json(item.fields)), created_at=recorded_at))

    def high_water(self) -> int:
        return len(self._tables.events)

    def read(self, after: int, up_to: int, limit: int) -> Sequence[StoredEvent]:
        return self._tables.events[after:min(up_to, after + limit)]

    def position(self, consumer: str, *, for_update: bool = False) -> int:
        return self._tables.cursors.get(consumer, 0)

    def move(self, consumer: str, position: int) -> None:
        self._tables.cursors[consumer] = position


class InMemoryUnitOfWork:
    """A unit of work over an ``InMemoryStore``; ``committed`` tells tests whether it committed."""

    inventory: _InventoryRepository
    bookings: _BookingRepository
    wallets: _WalletRepository
    payments: _PaymentRepository
    refunds: _RefundRepository
    promos: _PromoRepository
    audit: _AuditQueries
    events: _EventLog

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.committed = False
        self._working: _Tables | None = None

    def __enter__(self) -> Self:
        self.store.lock.acquire()
        self.committed = False
        self._bind(self.store.tables.copy())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._working = None
        self.store.lock.release()

    def commit(self) -> None:
        if self._working is None:
            raise StorageError("commit outside a transaction")
        self.store.tables = self._working
        self._bind(self._working.copy())
        self.committed = True

    def rollback(self) -> None:
        if self._working is not None:
            self._bind(self.store.tables.copy())

    def after_commit(self, callback: Callable[[], None]) -> None:
        callback()

    def _bind(self, working: _Tables) -> None:
        self._working = working
        self.inventory = _InventoryRepository(working)
        self.bookings = _BookingRepository(working)
        self.wallets = _WalletRepository(working)
        self.payments = _PaymentRepository(working)
        self.refunds = _RefundRepository(working)
        self.promos = _PromoRepository(working)
        self.audit = _AuditQueries(working)
        self.events = _EventLog(working)
