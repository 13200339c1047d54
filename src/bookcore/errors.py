"""One exception tree: every refusal bookcore makes is a ``BookcoreError`` with a stable ``code``."""

from __future__ import annotations

from typing import Any, ClassVar


class BookcoreError(Exception):
    """Base of every error bookcore raises on purpose.

    ``code`` is a stable machine-readable string (also the CLI's error word); ``details`` carries
    the fields that explain the refusal, so callers never parse messages.
    """

    code: ClassVar[str] = "bookcore_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        if not self.details:
            return self.message
        fields = ", ".join(f"{key}={value!r}" for key, value in self.details.items())
        return f"{self.message} ({fields})"


class InvalidInput(BookcoreError):
    """A value given to bookcore is malformed (wrong type, out of range, naive datetime, ...).

    ``details["field"]`` names the argument or field that was refused.
    """

    code = "invalid_input"


class InvalidAmount(InvalidInput):
    """A money amount is a float, NaN, infinite, negative, too large or too precise."""

    code = "invalid_amount"


class UnknownCurrency(InvalidInput):
    code = "unknown_currency"


class CurrencyMismatch(InvalidInput):
    code = "currency_mismatch"


class NotFound(BookcoreError):
    code = "not_found"


class InventoryItemNotFound(NotFound):
    code = "inventory_item_not_found"


class BookingNotFound(NotFound):
    code = "booking_not_found"


class AlreadyExists(BookcoreError):
    code = "already_exists"


class InsufficientInventory(BookcoreError):
    code = "insufficient_inventory"


class InvalidTransition(BookcoreError):
    """A booking was asked to move between statuses the state machine does not allow."""

    code = "invalid_transition"


class CancellationRefused(BookcoreError):
    """The refund policy does not let this actor cancel the booking now (its item has started)."""

    code = "cancellation_refused"


class HoldExpired(BookcoreError):
    code = "hold_expired"


class PaymentMismatch(BookcoreError):
    """The amount or currency presented at finalization is not what the booking owes."""

    code = "payment_mismatch"


class IdempotencyConflict(BookcoreError):
    """An idempotency key was reused with a different payload."""

    code = "exists_with_different_payload"


class InsufficientWalletBalance(BookcoreError):
    code = "insufficient_wallet_balance"


class NotAuthorized(BookcoreError):
    code = "not_authorized"


class StorageError(BookcoreError):
    """The database failed in a way bookcore could not recover from."""

    code = "storage_error"


class DatabaseUnavailable(StorageError):
    code = "database_unavailable"


class SchemaNotMigrated(StorageError):
    code = "schema_not_migrated"


class TransientConflict(StorageError):
    """A deadlock, serialization failure or lost connection: the transaction may be retried."""

    code = "transient_conflict"
