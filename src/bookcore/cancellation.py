"""Cancelling a booking: status, capacity and refund change together or not at all."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import field_validator

from bookcore.clock import Clock, ensure_utc
from bookcore.errors import BookingNotFound, NotAuthorized
from bookcore.logs import Event, event
from bookcore.model import (
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


class RefundPolicy(InputModel):
    """Tiers by notice before the item's ``starts_at``; the best tier the notice reaches applies.

    Cancelling with less notice than every tier refunds nothing. An item with no ``starts_at``
    always gets the best tier.
    """

    tiers: tuple[RefundTier, ...]

    def percent(self, *, starts_at: datetime | None, now: datetime) -> Decimal:
        notice = None if starts_at is None else starts_at - now
        reached = [tier.percent for tier in self.tiers if notice is None or notice >= tier.min_notice]
        return max(reached, default=ZERO)


FULL_REFUND = RefundPolicy(tiers=(RefundTier(min_notice=timedelta(0), percent=Decimal(100)),))


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
                   policy: RefundPolicy = FULL_REFUND) -> CancellationResult:
    """Cancel a HELD or CONFIRMED booking, release its capacity and refund by ``policy``.

    ``refund_mode`` WALLET credits the whole refund to the wallet at once; ORIGINAL returns the
    wallet part to the wallet (first) and records the rest as a gateway refund for the app to
    execute. Cancelling again raises ``InvalidTransition`` and refunds nothing.
    """
    check_id(booking_id, field="booking_id")
    refund_mode = check_refund_mode(refund_mode, field="refund_mode")
    now = ensure_utc(clock.now())

    def work(uow: UnitOfWork, events: list[Event]) -> CancellationResult:
        booking = uow.bookings.get(booking_id, for_update=True)
        if booking is None:
            raise BookingNotFound("no booking with this id", booking_id=booking_id)
        _authorize(actor, booking)
        check_transition(booking.id, booking.status, BookingStatus.CANCELLED)
        cancelled = booking.moved_to(BookingStatus.CANCELLED, now)
        uow.bookings.save(cancelled, expected_status=booking.status)
        uow.inventory.release(booking.item_id, booking.quantity)
        refund = _refund(uow, events, booking, refund_mode, policy, now)
        events.append(event(
            "BOOKING_CANCELLED", booking_id=booking.id, old_status=booking.status.value,
            new_status=BookingStatus.CANCELLED.value, actor=actor.id,
            refund_amount=refund.total if refund else ZERO, refund_mode=refund_mode.value,
            inventory_released=True, released_units=booking.quantity))
        return CancellationResult(booking=cancelled, old_status=booking.status,
                                  released_units=booking.quantity, refund=refund)

    return in_transaction(uow, work)


def _refund(uow: UnitOfWork, events: list[Event], booking: Booking, mode: RefundMode,
            policy: RefundPolicy, now: datetime) -> Refund | None:
    """Refund only money that was actually taken for this booking, and only once."""
    wallet_paid, gateway_paid = paid_amounts(uow.payments.for_booking(booking.id))
    paid = wallet_paid + gateway_paid
    if booking.status is not BookingStatus.CONFIRMED or paid == ZERO:
        return None
    item = uow.inventory.get(booking.item_id)
    percent = policy.percent(starts_at=item.starts_at if item else None, now=now)
    amount = min(paid, quantize(paid * percent / 100, booking.currency))
    if amount == ZERO:
        return None
    to_wallet = amount if mode is RefundMode.WALLET else min(amount, wallet_paid)
    refund = Refund(id=new_id(), booking_id=booking.id, payment_id=None, currency=booking.currency,
                    to_wallet=to_wallet, to_gateway=amount - to_wallet, mode=mode,
                    reason="cancellation", created_at=now)
    uow.refunds.add(refund)
    if to_wallet:
        credit(uow, events, customer_id=booking.customer_id, currency=booking.currency,
               amount=to_wallet, reason="cancellation refund", booking_id=booking.id, now=now)
    return refund
