"""bookcore: the booking-and-payments core. Everything public is re-exported here.

Names load on first use (PEP 562), so ``import bookcore`` stays cheap: the SQLAlchemy adapter is
imported only when one of its names is touched, and Alembic only when a migration runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bookcore.adapters.memory import InMemoryStore, InMemoryUnitOfWork
    from bookcore.adapters.sqlalchemy import (
        SqlAlchemyUnitOfWork,
        create_engine_for,
        current_revision,
        head_revision,
        migrate,
    )
    from bookcore.auditing import AuditReport, Violation, audit
    from bookcore.cancellation import (
        FULL_REFUND_BEFORE_START,
        AfterStart,
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
        CancellationRefused,
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
        RefundNotFound,
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
    from bookcore.refunds import mark_gateway_refund_executed, refunds_owed
    from bookcore.stored_events import StoredEvent
    from bookcore.wallet import credit_wallet, debit_wallet, wallet_balance, wallet_history

#: Where each public name lives.
_HOME = {
    "InMemoryStore": "bookcore.adapters.memory",
    "InMemoryUnitOfWork": "bookcore.adapters.memory",
    "SqlAlchemyUnitOfWork": "bookcore.adapters.sqlalchemy",
    "create_engine_for": "bookcore.adapters.sqlalchemy",
    "current_revision": "bookcore.adapters.sqlalchemy",
    "head_revision": "bookcore.adapters.sqlalchemy",
    "migrate": "bookcore.adapters.sqlalchemy",
    "AuditReport": "bookcore.auditing",
    "Violation": "bookcore.auditing",
    "audit": "bookcore.auditing",
    "CancellationResult": "bookcore.cancellation",
    "FULL_REFUND_BEFORE_START": "bookcore.cancellation",
    "AfterStart": "bookcore.cancellation",
    "RefundPolicy": "bookcore.cancellation",
    "RefundTier": "bookcore.cancellation",
    "cancel_booking": "bookcore.cancellation",
    "add_inventory_item": "bookcore.catalog",
    "add_promo_code": "bookcore.catalog",
    "Clock": "bookcore.clock",
    "ManualClock": "bookcore.clock",
    "SystemClock": "bookcore.clock",
    "ensure_utc": "bookcore.clock",
    "AlreadyExists": "bookcore.errors",
    "BookcoreError": "bookcore.errors",
    "BookingNotFound": "bookcore.errors",
    "CancellationRefused": "bookcore.errors",
    "CurrencyMismatch": "bookcore.errors",
    "DatabaseUnavailable": "bookcore.errors",
    "HoldExpired": "bookcore.errors",
    "IdempotencyConflict": "bookcore.errors",
    "InsufficientInventory": "bookcore.errors",
    "InsufficientWalletBalance": "bookcore.errors",
    "InvalidAmount": "bookcore.errors",
    "InvalidInput": "bookcore.errors",
    "InvalidTransition": "bookcore.errors",
    "InventoryItemNotFound": "bookcore.errors",
    "NotAuthorized": "bookcore.errors",
    "NotFound": "bookcore.errors",
    "PaymentMismatch": "bookcore.errors",
    "RefundNotFound": "bookcore.errors",
    "SchemaNotMigrated": "bookcore.errors",
    "StorageError": "bookcore.errors",
    "TransientConflict": "bookcore.errors",
    "UnknownCurrency": "bookcore.errors",
    "ExpiryResult": "bookcore.holds",
    "HoldOutcome": "bookcore.holds",
    "HoldResult": "bookcore.holds",
    "expire_holds": "bookcore.holds",
    "place_hold": "bookcore.holds",
    "quote": "bookcore.holds",
    "seconds_left": "bookcore.holds",
    "BookingDetails": "bookcore.lookups",
    "booking_details": "bookcore.lookups",
    "inventory_items": "bookcore.lookups",
    "BookingPage": "bookcore.lookups",
    "list_bookings": "bookcore.lookups",
    "acknowledge": "bookcore.outbox",
    "consume": "bookcore.outbox",
    "consumer_position": "bookcore.outbox",
    "read_events": "bookcore.outbox",
    "StoredEvent": "bookcore.stored_events",
    "Actor": "bookcore.model",
    "Booking": "bookcore.model",
    "BookingStatus": "bookcore.model",
    "DEFAULT_HOLD_TTL": "bookcore.model",
    "InventoryItem": "bookcore.model",
    "Payment": "bookcore.model",
    "PaymentOutcome": "bookcore.model",
    "Refund": "bookcore.model",
    "RefundMode": "bookcore.model",
    "WalletEntry": "bookcore.model",
    "WalletEntryKind": "bookcore.model",
    "MAX_AMOUNT": "bookcore.money",
    "MINOR_UNITS": "bookcore.money",
    "ROUNDING": "bookcore.money",
    "parse_amount": "bookcore.money",
    "quantize": "bookcore.money",
    "PaymentResult": "bookcore.payments",
    "finalize_payment": "bookcore.payments",
    "UnitOfWork": "bookcore.ports",
    "Charges": "bookcore.pricing",
    "Fee": "bookcore.pricing",
    "FeeKind": "bookcore.pricing",
    "FeeLine": "bookcore.pricing",
    "NO_CHARGES": "bookcore.pricing",
    "Pricing": "bookcore.pricing",
    "calculate_pricing": "bookcore.pricing",
    "PromoCode": "bookcore.promos",
    "PromoKind": "bookcore.promos",
    "PromoRefusal": "bookcore.promos",
    "PromoUsage": "bookcore.promos",
    "mark_gateway_refund_executed": "bookcore.refunds",
    "refunds_owed": "bookcore.refunds",
    "credit_wallet": "bookcore.wallet",
    "debit_wallet": "bookcore.wallet",
    "wallet_balance": "bookcore.wallet",
    "wallet_history": "bookcore.wallet",
}

__all__ = [
    "Actor", "AfterStart", "AlreadyExists", "AuditReport", "BookcoreError", "Booking", "BookingDetails",
    "BookingNotFound", "BookingStatus", "CancellationRefused", "CancellationResult", "Charges", "Clock",
    "CurrencyMismatch", "DEFAULT_HOLD_TTL", "DatabaseUnavailable", "ExpiryResult",
    "FULL_REFUND_BEFORE_START", "Fee", "FeeKind", "FeeLine", "HoldExpired", "HoldOutcome", "HoldResult",
    "IdempotencyConflict", "InMemoryStore", "InMemoryUnitOfWork", "InsufficientInventory",
    "InsufficientWalletBalance", "InvalidAmount", "InvalidInput", "InvalidTransition", "InventoryItem",
    "InventoryItemNotFound", "MAX_AMOUNT", "MINOR_UNITS", "ManualClock", "NO_CHARGES", "NotAuthorized",
    "NotFound", "Payment", "PaymentMismatch", "PaymentOutcome", "PaymentResult", "Pricing", "PromoCode",
    "PromoKind", "PromoRefusal", "PromoUsage", "ROUNDING", "Refund", "RefundMode", "RefundPolicy",
    "RefundTier", "SchemaNotMigrated", "SqlAlchemyUnitOfWork", "StorageError", "SystemClock",
    "TransientConflict", "UnitOfWork", "UnknownCurrency", "Violation", "WalletEntry", "WalletEntryKind",
    "add_inventory_item", "add_promo_code", "audit", "booking_details", "calculate_pricing",
    "cancel_booking", "create_engine_for", "credit_wallet", "current_revision", "debit_wallet",
    "ensure_utc", "expire_holds", "finalize_payment", "head_revision", "inventory_items", "migrate",
    "parse_amount", "place_hold", "quantize", "quote", "seconds_left", "wallet_balance",
    "wallet_history",
    "BookingPage", "StoredEvent", "acknowledge", "consume", "consumer_position", "list_bookings",
    "read_events", "RefundNotFound", "mark_gateway_refund_executed", "refunds_owed",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'bookcore' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
