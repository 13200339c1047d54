"""The domain: inventory, bookings and their state machine, wallet entries, payments, refunds.

Plain immutable values and rules; nothing here knows about a database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from pydantic import AwareDatetime, field_validator, model_validator

from bookcore.clock import ensure_utc
from bookcore.errors import InvalidInput, InvalidTransition
from bookcore.money import ZERO, StrictDecimal, check_currency, parse_amount
from bookcore.pricing import Pricing

# check_id is imported from here by the services; it lives in values.py beside check_text.
from bookcore.values import FrozenModel, InputModel, check_text
from bookcore.values import check_id as check_id

DEFAULT_HOLD_TTL = timedelta(minutes=10)
MAX_HOLD_TTL = timedelta(hours=24)
MAX_CAPACITY = 1_000_000_000


def new_id() -> str:
    """A random id: the hex of a version-4 UUID."""
    return uuid.uuid4().hex


def check_hold_ttl(ttl: object) -> timedelta:
    if not isinstance(ttl, timedelta) or not timedelta(0) < ttl <= MAX_HOLD_TTL:
        raise InvalidInput(f"hold_ttl must be a timedelta above zero and at most {MAX_HOLD_TTL}",
                           field="hold_ttl", value=ttl)
    return ttl


class BookingStatus(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


#: The one table of allowed moves. EXPIRED -> CONFIRMED exists only for money that arrives after
#: the hold lapsed, when the late-payment policy accepts it and capacity can be taken again.
ALLOWED_TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.HELD: frozenset({BookingStatus.CONFIRMED, BookingStatus.EXPIRED,
                                   BookingStatus.CANCELLED}),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.CANCELLED}),
    BookingStatus.EXPIRED: frozenset({BookingStatus.CONFIRMED}),
    BookingStatus.CANCELLED: frozenset(),
}

#: Statuses in which a booking occupies capacity.
OCCUPYING = frozenset({BookingStatus.HELD, BookingStatus.CONFIRMED})


#: The field a booking's arrival in each status is stamped in.
_STAMPS = {BookingStatus.CONFIRMED: "confirmed_at", BookingStatus.EXPIRED: "expired_at",
           BookingStatus.CANCELLED: "cancelled_at"}


def check_transition(booking_id: str, current: BookingStatus, target: BookingStatus) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        raise InvalidTransition(f"booking is {current.value}; it cannot become {target.value}",
                                booking_id=booking_id, current=current.value, requested=target.value)


class InventoryItem(InputModel):
    """A bookable resource (room-night, seat, slot) with its capacity and what is still free."""

    id: str
    name: str
    capacity: int
    available: int
    unit_price: StrictDecimal
    currency: str
    starts_at: AwareDatetime | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_id(value, field="item_id")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_text(value, field="name")

    @field_validator("starts_at")
    @classmethod
    def _starts_at(cls, value: datetime | None) -> datetime | None:
        return None if value is None else ensure_utc(value, field="starts_at")

    @model_validator(mode="after")
    def _consistent(self) -> InventoryItem:
        check_currency(self.currency)
        parse_amount(self.unit_price, self.currency, field="unit_price")
        if not 0 <= self.capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be between 0 and {MAX_CAPACITY}")
        if not 0 <= self.available <= self.capacity:
            raise ValueError("available must be between 0 and capacity")
        return self


class Booking(FrozenModel):
    id: str
    item_id: str
    customer_id: str
    quantity: int
    status: BookingStatus
    pricing: Pricing
    reserved_at: AwareDatetime
    expires_at: AwareDatetime
    confirmed_at: AwareDatetime | None = None
    expired_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    #: The hold request it was made for (``HoldRequest.fingerprint``), which a retry with its id
    #: must repeat; None for bookings held before the schema stored it.
    request_fingerprint: str | None = None

    @property
    def currency(self) -> str:
        return self.pricing.currency

    @property
    def promo_code(self) -> str | None:
        return self.pricing.promo_code

    def is_live(self, now: datetime) -> bool:
        """A hold is live strictly before ``expires_at``; at that instant it has lapsed."""
        return self.status is BookingStatus.HELD and now < self.expires_at

    def moved_to(self, target: BookingStatus, at: datetime) -> Booking:
        check_transition(self.id, self.status, target)
        # A copy of a valid booking with a checked transition: nothing in it needs validating again.
        return self.model_copy(update={"status": target, _STAMPS[target]: at})


class ExpiredHold(NamedTuple):
    """What the expiry sweep needs of a booking it just expired; no pricing is loaded for it."""

    booking_id: str
    item_id: str
    customer_id: str
    quantity: int


class WalletEntryKind(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


class WalletEntry(FrozenModel):
    """One line of a customer's append-only wallet ledger; corrections are new entries."""

    id: str
    customer_id: str
    currency: str
    kind: WalletEntryKind
    amount: Decimal
    reason: str
    booking_id: str | None
    created_at: AwareDatetime

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.kind is WalletEntryKind.CREDIT else -self.amount


class PaymentOutcome(StrEnum):
    CONFIRMED = "confirmed"
    CONFIRMED_LATE = "confirmed_late"
    CREDITED_TO_WALLET = "credited_to_wallet"
    GATEWAY_REFUND_REQUIRED = "gateway_refund_required"


#: Outcomes whose money paid for the booking (the others were handed back).
PAID_OUTCOMES = frozenset({PaymentOutcome.CONFIRMED, PaymentOutcome.CONFIRMED_LATE})


class Payment(FrozenModel):
    """One finalization attempt that moved money, keyed by its idempotency key."""

    id: str
    booking_id: str
    idempotency_key: str
    fingerprint: str
    currency: str
    wallet_amount: Decimal
    gateway_amount: Decimal
    gateway_reference: str | None
    outcome: PaymentOutcome
    reason: str | None
    created_at: AwareDatetime


def paid_amounts(payments: Sequence[Payment]) -> tuple[Decimal, Decimal]:
    """(from wallet, from gateway) of the payments that paid for a booking."""
    paid = [p for p in payments if p.outcome in PAID_OUTCOMES]
    return sum((p.wallet_amount for p in paid), ZERO), sum((p.gateway_amount for p in paid), ZERO)


class RefundMode(StrEnum):
    WALLET = "wallet"
    ORIGINAL = "original"


_REFUND_MODES = frozenset(member.value for member in RefundMode)


def check_refund_mode(mode: object, *, field: str) -> RefundMode:
    """A ``RefundMode``, or its value (``"wallet"``); anything else is ``InvalidInput``."""
    if isinstance(mode, str) and mode in _REFUND_MODES:
        return RefundMode(mode)
    raise InvalidInput(f"{field} must be a RefundMode", field=field, value=mode,
                       allowed=sorted(_REFUND_MODES))


class Refund(FrozenModel):
    """Money handed back: ``to_wallet`` is credited at once, ``to_gateway`` is for the app to execute.

    ``payment_id`` and ``charge_reference`` name the payment it reverses and that payment's gateway
    reference; ``executed_at`` and ``refund_reference`` say when the app executed the gateway part
    and the gateway's reference for it (None while it is owed).
    """

    id: str
    booking_id: str
    payment_id: str | None
    currency: str
    to_wallet: Decimal
    to_gateway: Decimal
    mode: RefundMode
    reason: str
    created_at: AwareDatetime
    charge_reference: str | None = None
    executed_at: AwareDatetime | None = None
    refund_reference: str | None = None

    @property
    def total(self) -> Decimal:
        return self.to_wallet + self.to_gateway

    @property
    def owed_to_gateway(self) -> bool:
        """Money the app must still send back through the gateway."""
        return self.to_gateway > ZERO and self.executed_at is None


class Actor(InputModel):
    """Who asks for a change: a customer (may touch their own bookings) or staff (any booking)."""

    id: str
    is_staff: bool = False

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_id(value, field="id")

    @classmethod
    def customer(cls, customer_id: str) -> Actor:
        return cls(id=check_id(customer_id, field="customer_id"))

    @classmethod
    def staff(cls, staff_id: str) -> Actor:
        return cls(id=check_id(staff_id, field="staff_id"), is_staff=True)

    def may_act_for(self, customer_id: str) -> bool:
        """Staff may act on any customer's bookings; a customer only on their own."""
        return self.is_staff or self.id == customer_id
