"""What the services need from storage. Adapters implement these; services import only this."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import NamedTuple, Protocol, Self

from bookcore.logs import Event
from bookcore.model import Booking, BookingStatus, ExpiredHold, InventoryItem, Payment, Refund, WalletEntry
from bookcore.promos import PromoCode, PromoUsage
from bookcore.stored_events import StoredEvent


class InventoryRepository(Protocol):
    def add(self, item: InventoryItem) -> None:
        """Store a new item; ``AlreadyExists`` if its id is taken."""

    def get(self, item_id: str) -> InventoryItem | None: ...

    def take(self, item_id: str, quantity: int) -> bool:
        """Atomically lower ``available`` by ``quantity`` if at least that much is free; the item
        stays locked until the transaction ends."""

    def release(self, units: Mapping[str, int]) -> None:
        """Give back ``units[item_id]`` to each item, locking the items in id order (see
        docs/scaling.md, "One lock order"). Never above capacity: if any item would go over (or is
        missing), ``StorageError`` and the transaction must be rolled back."""

    def list(self) -> Sequence[InventoryItem]: ...


class BookingRepository(Protocol):
    def add(self, booking: Booking) -> None:
        """Store a new booking; ``AlreadyExists`` if its id is taken."""

    def get(self, booking_id: str, *, for_update: bool = False) -> Booking | None:
        """``for_update`` locks the row until the transaction ends."""

    def save(self, booking: Booking, *, expected_status: BookingStatus) -> bool:
        """Write status and timestamps if the stored status is still ``expected_status``."""

    def claim_lapsed(self, now: datetime, limit: int, *, item_id: str | None = None) -> list[ExpiredHold]:
        """Lock up to ``limit`` HELD bookings with ``expires_at <= now``, the oldest first (by
        ``expires_at``, then id), and return them; nothing is written yet.

        Rows another transaction has locked are skipped, so several sweepers share the work
        instead of queueing behind each other.
        """

    def mark_expired(self, booking_ids: Sequence[str], now: datetime) -> None:
        """Mark the claimed holds EXPIRED at ``now``; ``StorageError`` if one is no longer HELD."""

    def count_lapsed(self, now: datetime) -> tuple[int, int]:
        """(bookings, units) that are HELD with ``expires_at <= now``; changes nothing."""

    def promo_usage(self, code: str, customer_id: str, now: datetime) -> PromoUsage:
        """Uses of a code: confirmed bookings plus live holds, overall and by this customer."""

    def list(self, *, status: BookingStatus | None = None, customer_id: str | None = None,
             limit: int = 100) -> Sequence[Booking]: ...

    def newest(self, *, customer_id: str, status: BookingStatus | None,
               before: tuple[datetime, str] | None, limit: int) -> Sequence[Booking]:
        """A customer's bookings by (``reserved_at``, id) descending, those before ``before`` only."""


class WalletRepository(Protocol):
    def balance(self, customer_id: str, currency: str, *, for_update: bool = False) -> Decimal:
        """``for_update`` locks the account (if it exists) until the transaction ends."""

    def append(self, entry: WalletEntry) -> bool:
        """Add a ledger entry and move the balance with it; a debit the balance cannot cover
        changes nothing and returns False."""

    def entries(self, customer_id: str, currency: str) -> Sequence[WalletEntry]: ...


class PaymentRepository(Protocol):
    def add(self, payment: Payment) -> None:
        """Store a payment; ``IdempotencyConflict`` if its key is already used."""

    def get_by_key(self, idempotency_key: str) -> Payment | None: ...

    def for_booking(self, booking_id: str) -> Sequence[Payment]: ...


class RefundRepository(Protocol):
    def add(self, refund: Refund) -> None: ...

    def get(self, refund_id: str, *, for_update: bool = False) -> Refund | None:
        """``for_update`` locks the row until the transaction ends."""

    def for_booking(self, booking_id: str) -> Sequence[Refund]: ...

    def owed(self) -> Sequence[Refund]:
        """Refunds with money still to send back through the gateway, oldest first."""

    def mark_executed(self, refund_id: str, refund_reference: str, executed_at: datetime) -> bool:
        """Record the gateway's execution if none is recorded yet; False if one already is."""


class PromoRepository(Protocol):
    def add(self, promo: PromoCode) -> None: ...

    def get(self, code: str, *, for_update: bool = False) -> PromoCode | None:
        """``code`` is already normalized; ``for_update`` serializes holds that use this code."""


class EventLog(Protocol):
    """The outbox: events stored with the changes they describe, and each consumer's position."""

    def append(self, events: Sequence[Event], recorded_at: datetime) -> None:
        """Store ``events`` in this transaction, at positions above every stored one."""

    def high_water(self) -> int:
        """The highest position below which every event is committed (or will never be): waits
        for transactions that are writing events to end."""

    def read(self, after: int, up_to: int, limit: int) -> Sequence[StoredEvent]:
        """Events with ``after < position <= up_to``, oldest first, at most ``limit``."""

    def position(self, consumer: str, *, for_update: bool = False) -> int:
        """The consumer's acknowledged position (0 if none); ``for_update`` creates its cursor if
        needed and locks it until the transaction ends."""

    def move(self, consumer: str, position: int) -> None:
        """Set the consumer's position (its cursor exists: ``position(for_update=True)`` made it)."""


class ItemOccupancy(NamedTuple):
    item_id: str
    capacity: int
    available: int
    held_units: int
    confirmed_units: int


class WalletTotal(NamedTuple):
    customer_id: str
    currency: str
    balance: Decimal
    ledger_sum: Decimal


class BookingMoney(NamedTuple):
    booking_id: str
    status: BookingStatus
    total_amount: Decimal
    paid: Decimal
    """Wallet plus gateway money of payments that paid for the booking."""
    received: Decimal
    """Wallet plus gateway money of every payment recorded for the booking."""
    refunded: Decimal
    cancellation_refunds: int


class GatewayMoney(NamedTuple):
    """Where the gateway money of every payment in one currency went."""

    currency: str
    captured: Decimal
    """Gateway money of every payment recorded."""
    confirmed: Decimal
    """Of payments that paid for their booking."""
    credited: Decimal
    """Handed back to wallets, from payments that could not pay for their booking."""
    owed: Decimal
    """Handed back as gateway refunds not yet executed."""
    refunded: Decimal
    """Handed back as gateway refunds executed."""


class AuditQueries(Protocol):
    """Read-only aggregates ``bookcore audit`` checks; set-based, never row by row."""

    def item_occupancy(self) -> Sequence[ItemOccupancy]: ...

    def wallet_totals(self) -> Sequence[WalletTotal]: ...

    def booking_count(self) -> int:
        """Every booking in the store, whatever its status."""

    def booking_money(self) -> Sequence[BookingMoney]:
        """For bookings that are CONFIRMED or have any payment or refund."""

    def holds_lapsed_before(self, moment: datetime) -> int:
        """HELD bookings whose ``expires_at`` is before ``moment``."""

    def gateway_money(self) -> Sequence[GatewayMoney]:
        """One row per currency with any payment."""


class UnitOfWork(Protocol):
    """One database transaction. Rolls back on exit unless ``commit()`` was called.

    The same object can be entered again for the next transaction.
    """

    @property
    def inventory(self) -> InventoryRepository: ...

    @property
    def bookings(self) -> BookingRepository: ...

    @property
    def wallets(self) -> WalletRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def refunds(self) -> RefundRepository: ...

    @property
    def promos(self) -> PromoRepository: ...

    @property
    def audit(self) -> AuditQueries: ...

    @property
    def events(self) -> EventLog: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the work committed so far is final: at once when the unit of
        work owns its transaction; when the caller commits when it works inside theirs."""
