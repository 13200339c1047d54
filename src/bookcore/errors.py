"""One exception tree: every refusal bookcore makes is a ``BookcoreError`` with a stable ``code``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar


class BookcoreError(Exception):
    """Base of every error bookcore raises on purpose.

    ``code`` is a stable machine-readable string (also the CLI's error word); ``details`` carries
    the fields that explain the refusal, so callers never parse messages.
    """

    code: ClassVar[str] = "bookcore_error"
    #: The argument a refusal of this kind is about, when ``details`` names none.
    default_field: ClassVar[str | None] = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def field(self) -> str | None:
        """The argument or field that was refused, if the refusal is about one."""
        named = self.details.get("field")
        return named if isinstance(named, str) else self.default_field

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, lossless: ``{"code", "message", "field", "details"}``, with amounts as
        strings (``"19.99"``), datetimes in ISO 8601 and enums by value."""
        return {"code": self.code, "message": self.message, "field": self.field,
                "details": {key: _plain(value) for key, value in self.details.items()
                            if key != "field"}}

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
    default_field = "currency"


class CurrencyMismatch(InvalidInput):
    code = "currency_mismatch"
    default_field = "currency"


class NotFound(BookcoreError):
    code = "not_found"


class InventoryItemNotFound(NotFound):
    code = "inventory_item_not_found"
    default_field = "item_id"


class BookingNotFound(NotFound):
    code = "booking_not_found"
    default_field = "booking_id"


class RefundNotFound(NotFound):
    """No refund with this id owes money through the gateway."""

    code = "refund_not_found"
    default_field = "refund_id"


class AlreadyExists(BookcoreError):
    code = "already_exists"


class InsufficientInventory(BookcoreError):
    code = "insufficient_inventory"
    default_field = "quantity"


class InvalidTransition(BookcoreError):
    """A booking was asked to move between statuses the state machine does not allow."""

    code = "invalid_transition"
    default_field = "booking_id"


class CancellationRefused(BookcoreError):
    """The refund policy does not let this actor cancel the booking now (its item has started)."""

    code = "cancellation_refused"


class HoldExpired(BookcoreError):
    code = "hold_expired"
    default_field = "booking_id"


class PaymentMismatch(BookcoreError):
    """The amount or currency presented at finalization is not what the booking owes."""

    code = "payment_mismatch"
    default_field = "gateway_amount"


class IdempotencyConflict(BookcoreError):
    """An idempotency key was reused with a different payload."""

    code = "exists_with_different_payload"
    default_field = "idempotency_key"


class InsufficientWalletBalance(BookcoreError):
    code = "insufficient_wallet_balance"
    default_field = "amount"


class NotAuthorized(BookcoreError):
    code = "not_authorized"
    default_field = "actor"


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


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)  # NaN and infinities are not JSON
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    return str(value)
