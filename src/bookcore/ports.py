"""What the services need from storage. Adapters implement these; services import only this."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import NamedTuple, Protocol, Self

from bookcore.model import Booking, BookingStatus, ExpiredHold, InventoryItem, Payment, Refund, WalletEntry
from bookcore.promos import PromoCode, PromoUsage


class ItemForCustomer(NamedTuple):
    """What pricing a hold needs of an item and of the customer buying it."""

    unit_price: Decimal
    currency: str
    #: The customer's wallet balance in the item's currency (0 without a wallet).
    wallet_balance: Decimal


class InventoryRepository(Protocol):
    #: Whether taking capacity locks the item's row until commit while other transactions run on
    #: (database servers). A hold then prices first and takes last, so the row stays locked for
    #: the take, the booking's INSERT and the commit, not for the pricing too. False where a
    #: transaction has the whole store to itself (SQLite's write lock from BEGIN, memory).
    takes_row_locks: bool

    def add(self, item: InventoryItem) -> None:
        """Store a new item; ``AlreadyExists`` if its id is taken."""

    def get(self, item_id: str) -> InventoryItem | None: ...

    def get_for_customer(self, item_id: str, customer_id: str) -> ItemForCustomer | None:
        """The item's price and the customer's wallet balance in its currency, in one read: all
        that pricing a hold needs, fetched in one round trip on the hottest path."""

    def take(self, item_id: str, quantity: int) -> bool:
        """Atomically lower ``available`` by ``quantity`` if at least that much is free."""

    def take_for_customer(self, item_id: str, customer_id: str, quantity: int) -> ItemForCustomer | None:
        """``take``, and what ``get_for_customer`` reads, in one statement where the store can
        (UPDATE ... RETURNING): a hold's whole read and write on its hottest row. None, with
        nothing taken, when the item is missing or short."""

    def release(self, item_id: str, quantity: int) -> None:
        """Give ``quantity`` back; never above capacity (``StorageError`` if it would be)."""

    def release_many(self, units: Mapping[str, int]) -> None:
        """Give back ``units[item_id]`` to each item, in as few statements as the store allows
        (the expiry sweep frees hundreds of items per batch). Never above capacity: if any item
        would go over, ``StorageError`` and the transaction must be rolled back."""

    def list(self) -> Sequence[InventoryItem]: ...


class BookingRepository(Protocol):
    def add(self, booking: Booking) -> None: ...

    def add_taking(self, booking: Booking, unit_price: Decimal, currency: str) -> bool:
        """Take the booking's quantity from its item and store the booking, in one statement
        where the store can, only while the item has that much free and still sells at
        ``unit_price`` in ``currency`` (the prices a hold was priced from, read unlocked); False,
        with nothing written, otherwise. ``AlreadyExists`` if the booking's id is taken."""

    def get(self, booking_id: str, *, for_update: bool = False) -> Booking | None:
        """``for_update`` locks the row until the transaction ends."""

    def get_for_payment(self, booking_id: str, idempotency_key: str) -> tuple[Booking | None, Payment | None]:
        """Lock the booking (as ``get(for_update=True)``) and find the payment made with this key.

        The payment can be missed when it committed while this call waited for the booking's lock
        (PostgreSQL reads the join as of the statement's start); adding a payment with the same
        key then raises ``IdempotencyConflict``, and a caller that runs again finds it.
        """

    def save(self, booking: Booking, *, expected_status: BookingStatus) -> bool:
        """Write status and timestamps if the stored status is still ``expected_status``."""

    def expire_lapsed(self, now: datetime, limit: int, *, item_id: str | None = None) -> list[ExpiredHold]:
        """Mark up to ``limit`` HELD bookings with ``expires_at <= now`` EXPIRED, the oldest first
        (by ``expires_at``, then id), and return them, in no particular order.

        Rows another transaction has locked are skipped where the database can, so several
        sweepers share the work instead of queueing.
        """

    def count_lapsed(self, now: datetime) -> tuple[int, int]:
        """(bookings, units) that ``expire_lapsed`` would expire at ``now``; changes nothing."""

    def promo_usage(self, code: str, customer_id: str, now: datetime) -> PromoUsage:
        """Uses of a code: confirmed bookings plus live holds, overall and by this customer."""

    def list(self, *, status: BookingStatus | None = None, customer_id: str | None = None,
             limit: int = 100) -> Sequence[Booking]: ...


class WalletRepository(Protocol):
    def balance(self, customer_id: str, currency: str) -> Decimal: ...

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

    def for_booking(self, booking_id: str) -> Sequence[Refund]: ...


class PromoRepository(Protocol):
    def add(self, promo: PromoCode) -> None: ...

    def get(self, code: str, *, for_update: bool = False) -> PromoCode | None:
        """``code`` is already normalized; ``for_update`` serializes holds that use this code."""


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


class AuditQueries(Protocol):
    """Read-only aggregates ``bookcore audit`` checks; set-based, never row by row."""

    def item_occupancy(self) -> Sequence[ItemOccupancy]: ...

    def wallet_totals(self) -> Sequence[WalletTotal]: ...

    def booking_money(self) -> Sequence[BookingMoney]:
        """For bookings that are CONFIRMED or have any payment or refund."""

    def holds_lapsed_before(self, moment: datetime) -> int:
        """HELD bookings whose ``expires_at`` is before ``moment``."""


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


    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
