"""bookcore: the booking-and-payments core. Everything public is re-exported here."""

from bookcore.adapters.memory import InMemoryStore, InMemoryUnitOfWork
from bookcore.adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    create_engine_for,
    current_revision,
    head_revision,
    migrate,
)
from bookcore.audit import AuditReport, Violation, audit
from bookcore.cancellation import (
    FULL_REFUND,
    CancellationResult,
    RefundPolicy,
    RefundTier,
    cancel_booking,
)
from bookcore.catalog import add_inventory_item, add_promo_code
from bookcore.clock import Clock, ManualClock, SystemClock, ensure_utc
from bookcore.errors import (
    AlreadyExists,
    BookcoreError,
    BookingNotFound,
    CurrencyMismatch,
    DatabaseUnavailable,
    HoldExpired,
    IdempotencyConflict,
    InsufficientInventory,
    InsufficientWalletBalance,
    InvalidAmount,
    InvalidInput,
    InvalidTransition,
    InventoryItemNotFound,
    NotAuthorized,
    NotFound,
    PaymentMismatch,
    SchemaNotMigrated,
    StorageError,
    TransientConflict,
    UnknownCurrency,
)
from bookcore.holds import (
    ExpiryResult,
    HoldOutcome,
    HoldResult,
    expire_holds,
    place_hold,
    quote,
    seconds_left,
)
from bookcore.lookups import BookingDetails, BookingPage, booking_details, inventory_items, list_bookings
from bookcore.model import (
    DEFAULT_HOLD_TTL,
    Actor,
    Booking,
    BookingStatus,
    InventoryItem,
    Payment,
    PaymentOutcome,
    Refund,
    RefundMode,
    WalletEntry,
    WalletEntryKind,
)
from bookcore.money import MAX_AMOUNT, MINOR_UNITS, ROUNDING, parse_amount, quantize
from bookcore.outbox import acknowledge, consume, consumer_position, read_events
from bookcore.payments import PaymentResult, finalize_payment
from bookcore.ports import UnitOfWork
from bookcore.pricing import NO_CHARGES, Charges, Fee, FeeKind, FeeLine, Pricing, calculate_pricing
from bookcore.promos import PromoCode, PromoKind, PromoRefusal, PromoUsage
from bookcore.stored_events import StoredEvent
from bookcore.wallet import credit_wallet, debit_wallet, wallet_balance, wallet_history

__all__ = [
    "Actor", "AlreadyExists", "AuditReport", "BookcoreError", "Booking", "BookingDetails",
    "BookingNotFound", "BookingStatus", "CancellationResult", "Charges", "Clock", "CurrencyMismatch",
    "DEFAULT_HOLD_TTL", "DatabaseUnavailable", "ExpiryResult", "FULL_REFUND", "Fee", "FeeKind",
    "FeeLine", "HoldExpired", "HoldOutcome", "HoldResult", "IdempotencyConflict", "InMemoryStore",
    "InMemoryUnitOfWork", "InsufficientInventory", "InsufficientWalletBalance", "InvalidAmount",
    "InvalidInput", "InvalidTransition", "InventoryItem", "InventoryItemNotFound", "MAX_AMOUNT",
    "MINOR_UNITS", "ManualClock", "NO_CHARGES", "NotAuthorized", "NotFound", "Payment",
    "PaymentMismatch", "PaymentOutcome", "PaymentResult", "Pricing", "PromoCode", "PromoKind",
    "PromoRefusal", "PromoUsage", "ROUNDING", "Refund", "RefundMode", "RefundPolicy", "RefundTier",
    "SchemaNotMigrated", "SqlAlchemyUnitOfWork", "StorageError", "SystemClock", "TransientConflict",
    "UnitOfWork", "UnknownCurrency", "Violation", "WalletEntry", "WalletEntryKind",
    "add_inventory_item", "add_promo_code", "audit", "booking_details", "calculate_pricing",
    "cancel_booking", "create_engine_for", "credit_wallet", "current_revision", "debit_wallet",
    "ensure_utc", "expire_holds", "finalize_payment", "head_revision", "inventory_items", "migrate",
    "parse_amount", "place_hold", "quantize", "quote", "seconds_left", "wallet_balance",
    "wallet_history",
    "BookingPage", "StoredEvent", "acknowledge", "consume", "consumer_position", "list_bookings",
    "read_events",
]  # fmt: skip
