"""Cancelling a booking: status, capacity and refund change together or not at all."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import field_validator

from bookcore.clock import Clock, now_from
from bookcore.errors import BookingNotFound, CancellationRefused, InvalidInput, NotAuthorized, StorageError
from bookcore.logs import Event, event
from bookcore.model import (
    PAID_OUTCOMES,
    Actor,
    Booking,
    BookingStatus,
    Refund,
    RefundMode,
    check_id,
    check_refund_mode,
    check_transition,
    new_id,
    paid_amounts,
)
from bookcore.money import ZERO, StrictDecimal, in_money_context, parse_percent, quantize
from bookcore.ports import UnitOfWork
from bookcore.transactions import in_transaction
from bookcore.values import FrozenModel, InputModel
from bookcore.wallet import credit


class RefundTier(InputModel):
    """Refund ``percent`` of what was paid when cancelled at least ``min_notice`` before the start."""

    min_notice: timedelta
    percent: StrictDecimal

    @field_validator("percent")
    @classmethod
    def _percent(cls, value: Decimal) -> Decimal:
        return parse_percent(value, field="percent")

    @field_validator("min_notice")
    @classmethod
    def _notice(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("min_notice cannot be negative")
        return value


class AfterStart(StrEnum):
    """Who may cancel once the booked item has started, when no percentage is refunded then."""

    #: Nobody: ``CancellationRefused`` for customers and staff alike.
    REFUSE = "refuse"
    #: Staff only, refunding the policy's best tier (as if with every notice); customers are refused.
    STAFF_ONLY = "staff_only"


class RefundPolicy(InputModel):
    """What cancelling refunds, by notice before the item's ``starts_at``.

    Before the start, the best tier the notice reaches applies; with less notice than every tier,
    nothing is refunded. At or after the start, ``after_start`` decides: ``AfterStart.REFUSE``,
    ``AfterStart.STAFF_ONLY``, or a percentage refunded to whoever cancels. An item with no
    ``starts_at`` never starts and always gets the best tier.
    """

    tiers: tuple[RefundTier, ...]
    after_start: AfterStart | Decimal

    @field_validator("after_start", mode="before")
    @classmethod
    def _after_start(cls, value: object) -> AfterStart | Decimal:
        return value if isinstance(value, AfterStart) else parse_percent(value, field="after_start")

    def refund_percent(self, *, booking_id: str, actor: Actor, starts_at: datetime | None,
                       now: datetime) -> Decimal:
        """The percent of what was paid to refund, or ``CancellationRefused`` if ``actor`` may not
        cancel now."""
        best = max((tier.percent for tier in self.tiers), default=ZERO)
        if starts_at is None:
            return best
        if now < starts_at:
            notice = starts_at - now
            return max((tier.percent for tier in self.tiers if notice >= tier.min_notice), default=ZERO)
        if isinstance(self.after_start, Decimal):
            return self.after_start
        if self.after_start is AfterStart.STAFF_ONLY and actor.is_staff:
            return best
        raise CancellationRefused(
            "the booked item has started; this refund policy does not allow cancelling it now"
            + (" except by staff" if self.after_start is AfterStart.STAFF_ONLY else ""),
            booking_id=booking_id, starts_at=starts_at.isoformat(), actor=actor.id,
            after_start=self.after_start.value)


#: A full refund for any cancellation before the item starts; after it has started, cancelling is
#: refused (``CancellationRefused``). Items with no ``starts_at`` are always refunded in full.
FULL_REFUND_BEFORE_START = RefundPolicy(
    tiers=(RefundTier(min_notice=timedelta(0), percent=Decimal(100)),), after_start=AfterStart.REFUSE)


class CancellationResult(FrozenModel):
    booking: Booking
    old_status: BookingStatus
    released_units: int
    refund: Refund | None


def _authorize(actor: Actor, booking: Booking) -> None:
    if not actor.is_staff and actor.id != booking.customer_id:
        raise NotAuthorized("only the booking's customer or staff may cancel it",
                            booking_id=booking.id, actor=actor.id)


@in_money_context
def cancel_booking(uow: UnitOfWork, *, booking_id: str, actor: Actor, clock: Clock,
                   refund_mode: RefundMode = RefundMode.WALLET,
                   policy: RefundPolicy = FULL_REFUND_BEFORE_START) -> CancellationResult:
    """Cancel a HELD or CONFIRMED booking, release its capacity and refund by ``policy``.

    Once the item has started, ``policy.after_start`` decides whether ``actor`` may still cancel
    (``CancellationRefused`` if not, with nothing changed) and what is refunded.

    ``refund_mode`` WALLET credits the whole refund to the wallet at once; ORIGINAL returns the
    wallet part to the wallet (first) and records the rest as a gateway refund for the app to
    execute. Cancelling again raises ``InvalidTransition`` and refunds nothing.
    """
    check_id(booking_id, field="booking_id")
    if not isinstance(actor, Actor):
        raise InvalidInput("actor must be an Actor", field="actor", value=actor)
    refund_mode = check_refund_mode(refund_mode, field="refund_mode")
    if not isinstance(policy, RefundPolicy):
        raise InvalidInput("policy must be a RefundPolicy", field="policy", value=policy)
    now = now_from(clock)

    def work(uow: UnitOfWork, events: list[Event]) -> CancellationResult:
        booking = uow.bookings.get(booking_id, for_update=True)
        if booking is None:
            raise BookingNotFound("no booking with this id", booking_id=booking_id)
        _authorize(actor, booking)
        check_transition(booking.id, booking.status, BookingStatus.CANCELLED)
        item = uow.inventory.get(booking.item_id)
        percent = policy.refund_percent(booking_id=booking.id, actor=actor, now=now,
                                        starts_at=item.starts_at if item else None)
        cancelled = booking.moved_to(BookingStatus.CANCELLED, now)
        # The lock order (docs/scaling.md): the booking, its wallet, then its item's row.
        refund = _refund(uow, events, booking, refund_mode, percent, now)
        uow.inventory.release({booking.item_id: booking.quantity})
        if not uow.bookings.save(cancelled, expected_status=booking.status):
            raise StorageError("the locked booking changed status", booking_id=booking.id)
        events.append(event(
            "BOOKING_CANCELLED", booking_id=booking.id, old_status=booking.status.value,
            new_status=BookingStatus.CANCELLED.value, actor=actor.id,
            refund_amount=refund.total if refund else ZERO, refund_mode=refund_mode.value,
            inventory_released=True, released_units=booking.quantity))
        return CancellationResult(booking=cancelled, old_status=booking.status,
                                  released_units=booking.quantity, refund=refund)

    return in_transaction(uow, work)


def _refund(uow: UnitOfWork, events: list[Event], booking: Booking, mode: RefundMode,
            percent: Decimal, now: datetime) -> Refund | None:
    """Refund only money that was actually taken for this booking, and only once."""
    payments = uow.payments.for_booking(booking.id)
    wallet_paid, gateway_paid = paid_amounts(payments)
    paid = wallet_paid + gateway_paid
    if booking.status is not BookingStatus.CONFIRMED or paid == ZERO:
        return None
    amount = min(paid, quantize(paid * percent / 100, booking.currency))
    if amount == ZERO:
        return None
    to_wallet = amount if mode is RefundMode.WALLET else min(amount, wallet_paid)
    # The payment that confirmed the booking: the one, and the capture, this refund reverses.
    confirming = next(p for p in payments if p.outcome in PAID_OUTCOMES)
    refund = Refund(id=new_id(), booking_id=booking.id, payment_id=confirming.id,
                    currency=booking.currency, to_wallet=to_wallet, to_gateway=amount - to_wallet,
                    mode=mode, reason="cancellation", created_at=now,
                    charge_reference=confirming.gateway_reference)
    uow.refunds.add(refund)
    if to_wallet:
        credit(uow, events, customer_id=booking.customer_id, currency=booking.currency,
               amount=to_wallet, reason="cancellation refund", booking_id=booking.id, now=now)
    return refund
