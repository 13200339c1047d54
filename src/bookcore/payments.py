"""Finalizing a payment: one function for every path (wallet only, wallet + gateway, gateway only).

The gateway is never called inside the database transaction. An app captures first, then calls
``finalize_payment`` with what was captured; see docs/payments.md. Every call carries an
idempotency key: a retried gateway callback returns the first result and moves nothing again.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bookcore.clock import Clock, now_from
from bookcore.errors import (
    BookingNotFound,
    HoldExpired,
    IdempotencyConflict,
    InsufficientWalletBalance,
    InvalidInput,
    NotAuthorized,
    PaymentMismatch,
    StorageError,
    TransientConflict,
)
from bookcore.logs import Event, event
from bookcore.model import (
    PAID_OUTCOMES,
    Actor,
    Booking,
    BookingStatus,
    Payment,
    PaymentOutcome,
    Refund,
    RefundMode,
    check_id,
    check_refund_mode,
    check_transition,
    new_id,
)
from bookcore.money import MAX_AMOUNT, ZERO, in_money_context, parse_amount, same_currency
from bookcore.ports import UnitOfWork
from bookcore.transactions import in_transaction
from bookcore.values import FrozenModel
from bookcore.wallet import credit, debit

MAX_KEY_LENGTH = 128


class PaymentResult(FrozenModel):
    """What finalization did. ``replayed`` is True when this key was seen before and nothing moved."""

    outcome: PaymentOutcome
    replayed: bool
    booking: Booking
    payment: Payment
    refund: Refund | None

    @property
    def confirmed(self) -> bool:
        return self.outcome in (PaymentOutcome.CONFIRMED, PaymentOutcome.CONFIRMED_LATE)


def _fingerprint(booking_id: str, currency: str, gateway_amount: Decimal, reference: str | None) -> str:
    return f"{booking_id}|{currency}|{gateway_amount}|{reference or ''}"


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable() \
            or key != key.strip():
        raise InvalidInput(f"idempotency_key must be 1 to {MAX_KEY_LENGTH} printable characters "
                           "without surrounding blanks",
                           field="idempotency_key", value=key)
    return key


@in_money_context
def finalize_payment(uow: UnitOfWork, *, booking_id: str, idempotency_key: str, gateway_amount: object,
                     currency: str, clock: Clock, gateway_reference: str | None = None,
                     accept_late_payment: bool = True,
                     unplaced_money_to: RefundMode = RefundMode.WALLET,
                     actor: Actor | None = None) -> PaymentResult:
    """Confirm a HELD booking, paying ``pricing.wallet_applied`` from the wallet and
    ``gateway_amount`` (already captured by the app, 0 for wallet-only) from the gateway.

    Every call that reports gateway money ends with that money recorded under the key: it
    confirms the booking, or it is credited to the wallet or recorded as a gateway refund owed
    (``unplaced_money_to``) — when the amount or currency is not what the booking owes
    (``amount_mismatch``; ``currency_mismatch``, always to the gateway), the hold lapsed and
    cannot be confirmed late (``accept_late_payment``), the booking was cancelled or already
    paid, or the wallet fell short. The result and ``payment.reason`` say which.

    Raised with nothing recorded: a call's own faults, which the app fixes and sends again with
    the same key (``InvalidInput``, ``BookingNotFound``, ``NotAuthorized`` — with ``actor``, only
    the booking's customer or staff may pay —, ``IdempotencyConflict``), and, without gateway
    money, ``PaymentMismatch``, ``CurrencyMismatch``, ``HoldExpired``,
    ``InsufficientWalletBalance`` and ``InvalidTransition``.
    """
    check_id(booking_id, field="booking_id")
    if actor is not None and not isinstance(actor, Actor):
        raise InvalidInput("actor must be None or an Actor", field="actor", value=actor)
    key = _check_key(idempotency_key)
    gateway = parse_amount(gateway_amount, currency, field="gateway_amount")
    if gateway_reference is not None:
        check_id(gateway_reference, field="gateway_reference")
    if type(accept_late_payment) is not bool:
        raise InvalidInput("accept_late_payment must be a bool", field="accept_late_payment",
                           value=accept_late_payment)
    unplaced_to = check_refund_mode(unplaced_money_to, field="unplaced_money_to")
    fingerprint = _fingerprint(booking_id, currency, gateway, gateway_reference)
    now = now_from(clock)

    def work(uow: UnitOfWork, events: list[Event]) -> PaymentResult:
        # The booking's lock first, then the key: a call with this key that committed while we
        # waited for the lock is seen by the lookup, which runs after it.
        booking = uow.bookings.get(booking_id, for_update=True)
        if booking is None:
            raise BookingNotFound("no booking with this id", booking_id=booking_id)
        if actor is not None and not actor.may_act_for(booking.customer_id):
            raise NotAuthorized("only the booking's customer or staff may pay for it",
                                field="actor", booking_id=booking_id, actor=actor.id)
        previous = uow.payments.get_by_key(key)
        if previous is not None:
            return _replay(uow, events, previous, fingerprint, booking)
        try:
            return settle(uow, events, booking)
        except IdempotencyConflict as error:  # another booking's payment took the key meanwhile
            raise _key_just_used(key) from error

    def settle(uow: UnitOfWork, events: list[Event], booking: Booking) -> PaymentResult:
        attempt = _Attempt(uow, events, booking, key, fingerprint, gateway, currency,
                           gateway_reference, now)
        owed = booking.pricing.gateway_payable
        # Captured money the booking cannot take is handed back and recorded, never just refused;
        # only a call that reports no gateway money is refused outright.
        if currency != booking.currency:
            if gateway == ZERO:
                same_currency(booking.currency, currency, what="payment")
            # The wallet holds the booking's currency: other money goes back where it came from.
            return attempt.unplaced("currency_mismatch", RefundMode.ORIGINAL)
        if gateway != owed:
            if gateway == ZERO:
                raise PaymentMismatch("gateway amount differs from what the booking owes",
                                      booking_id=booking_id, expected=owed, presented=gateway,
                                      currency=currency)
            return attempt.unplaced("amount_mismatch", unplaced_to)
        if booking.is_live(now):
            return attempt.confirm(unplaced_to)
        if gateway == ZERO:
            if booking.status is BookingStatus.HELD or booking.status is BookingStatus.EXPIRED:
                raise HoldExpired("the hold lapsed before payment", booking_id=booking_id,
                                  expires_at=booking.expires_at.isoformat())
            check_transition(booking.id, booking.status, BookingStatus.CONFIRMED)
        if booking.status is BookingStatus.HELD or booking.status is BookingStatus.EXPIRED:
            return attempt.late(accept_late_payment, unplaced_to)
        return attempt.unplaced(f"booking_{booking.status.value}", unplaced_to)

    return in_transaction(uow, work)


def _key_just_used(key: str) -> TransientConflict:
    return TransientConflict("a payment with this idempotency key was just made; run again",
                             idempotency_key=key)


def _replay(uow: UnitOfWork, events: list[Event], previous: Payment, fingerprint: str,
            booking: Booking) -> PaymentResult:
    if previous.fingerprint != fingerprint:
        raise IdempotencyConflict("idempotency key reused with a different payment",
                                  idempotency_key=previous.idempotency_key,
                                  booking_id=previous.booking_id)
    if previous.booking_id != booking.id:  # pragma: no cover - the fingerprint names the booking
        raise IdempotencyConflict("idempotency key belongs to another booking")
    # A paid payment's only refund is a later cancellation's, which is not this call's result.
    refund = None if previous.outcome in PAID_OUTCOMES else next(
        (r for r in uow.refunds.for_booking(booking.id) if r.payment_id == previous.id), None)
    events.append(event("PAYMENT_REPLAYED", booking_id=booking.id, payment_id=previous.id,
                        outcome=previous.outcome.value, idempotency_key=previous.idempotency_key))
    return PaymentResult.trusted(outcome=previous.outcome, replayed=True, booking=booking,
                                 payment=previous, refund=refund)


class _Attempt:
    """The steps of one finalization, sharing the transaction's state.

    Its payments, refunds and results are built with ``trusted``: every value in them was checked
    on the way in (ids, key, amounts, an aware ``now``), read from the stored booking, or computed
    here, and validating them again cost more than the SQL of a payment.
    """

    def __init__(self, uow: UnitOfWork, events: list[Event], booking: Booking, key: str,
                 fingerprint: str, gateway: Decimal, currency: str, reference: str | None,
                 now: datetime) -> None:
        self.uow, self.events, self.booking = uow, events, booking
        self.key, self.fingerprint, self.gateway, self.currency, self.reference, self.now = (
            key, fingerprint, gateway, currency, reference, now)

    def _record(self, outcome: PaymentOutcome, wallet_amount: Decimal, reason: str | None) -> Payment:
        payment = Payment.trusted(id=new_id(), booking_id=self.booking.id, idempotency_key=self.key,
                                  fingerprint=self.fingerprint, currency=self.currency,
                                  wallet_amount=wallet_amount, gateway_amount=self.gateway,
                                  gateway_reference=self.reference, outcome=outcome, reason=reason,
                                  created_at=self.now)
        self.uow.payments.add(payment)
        self.events.append(event("PAYMENT_FINALIZED", booking_id=self.booking.id,
                                 payment_id=payment.id, outcome=outcome.value,
                                 wallet_amount=wallet_amount, gateway_amount=self.gateway,
                                 currency=payment.currency, idempotency_key=self.key, reason=reason))
        return payment

    def _debit_wallet(self) -> bool:
        amount = self.booking.pricing.wallet_applied
        return amount == ZERO or debit(
            self.uow, self.events, customer_id=self.booking.customer_id,
            currency=self.booking.currency, amount=amount, reason="booking payment",
            booking_id=self.booking.id, now=self.now)

    def _wallet_covers(self) -> bool:
        """Lock the wallet and check it still covers its share, before capacity is taken (the
        lock order in docs/scaling.md: wallets before items)."""
        amount = self.booking.pricing.wallet_applied
        return amount == ZERO or self.uow.wallets.balance(
            self.booking.customer_id, self.booking.currency, for_update=True) >= amount

    def confirm(self, unplaced_to: RefundMode) -> PaymentResult:
        # The debit is conditional (``balance >= amount``): it is the wallet's check and lock.
        if self._debit_wallet():
            return self._confirmed(PaymentOutcome.CONFIRMED)
        if self.gateway == ZERO:
            raise InsufficientWalletBalance(
                "the wallet no longer covers its part of this booking",
                booking_id=self.booking.id, needed=self.booking.pricing.wallet_applied,
                balance=self.uow.wallets.balance(self.booking.customer_id, self.booking.currency))
        return self.unplaced("wallet_insufficient", unplaced_to)

    def _confirmed(self, outcome: PaymentOutcome) -> PaymentResult:
        previous_status = self.booking.status
        confirmed = self.booking.moved_to(BookingStatus.CONFIRMED, self.now)
        self.uow.bookings.save(confirmed, expected_status=previous_status)
        payment = self._record(outcome, self.booking.pricing.wallet_applied, None)
        self.events.append(event("BOOKING_CONFIRMED", booking_id=confirmed.id,
                                 old_status=previous_status.value, payment_id=payment.id,
                                 total_amount=confirmed.pricing.total_amount,
                                 currency=confirmed.currency,
                                 late=outcome is PaymentOutcome.CONFIRMED_LATE))
        return PaymentResult.trusted(outcome=outcome, replayed=False, booking=confirmed,
                                     payment=payment, refund=None)

    def late(self, accept: bool, unplaced_to: RefundMode) -> PaymentResult:
        booking = self.booking
        reason = "hold_expired"
        if accept:
            if not self._wallet_covers():
                reason = "hold_expired_wallet_insufficient"
            # An unswept lapsed hold still owns its capacity; a swept one must win it back.
            elif booking.status is BookingStatus.HELD or self.uow.inventory.take(
                    booking.item_id, booking.quantity):
                if not self._debit_wallet():  # pragma: no cover - the wallet is locked and covers it
                    raise StorageError("the locked wallet no longer covers its share",
                                       booking_id=booking.id)
                return self._confirmed(PaymentOutcome.CONFIRMED_LATE)
            else:
                reason = "hold_expired_no_capacity"
        if booking.status is BookingStatus.HELD:
            self._expire_now()
        return self.unplaced(reason, unplaced_to)

    def _expire_now(self) -> None:
        expired = self.booking.moved_to(BookingStatus.EXPIRED, self.now)
        self.uow.inventory.release({expired.item_id: expired.quantity})
        if not self.uow.bookings.save(expired, expected_status=BookingStatus.HELD):
            raise StorageError("the locked booking was no longer held", booking_id=expired.id)
        self.events.append(event("BOOKING_EXPIRED", booking_id=expired.id, item_id=expired.item_id,
                                 customer_id=expired.customer_id, quantity=expired.quantity,
                                 expired_at=self.now.isoformat()))
        self.booking = expired

    def unplaced(self, reason: str, to: RefundMode) -> PaymentResult:
        """Gateway money arrived that cannot pay for the booking: hand it back, and say so."""
        customer = self.booking.customer_id
        if to is RefundMode.WALLET and (
                self.uow.wallets.balance(customer, self.currency) + self.gateway > MAX_AMOUNT):
            to = RefundMode.ORIGINAL  # a wallet that cannot take it would leave it unrecorded
        outcome = (PaymentOutcome.CREDITED_TO_WALLET if to is RefundMode.WALLET
                   else PaymentOutcome.GATEWAY_REFUND_REQUIRED)
        payment = self._record(outcome, ZERO, reason)
        to_wallet = self.gateway if to is RefundMode.WALLET else ZERO
        refund = Refund.trusted(id=new_id(), booking_id=self.booking.id, payment_id=payment.id,
                                currency=self.currency, to_wallet=to_wallet,
                                to_gateway=self.gateway - to_wallet, mode=to, reason=reason,
                                created_at=self.now, charge_reference=self.reference,
                                executed_at=None, refund_reference=None)
        self.uow.refunds.add(refund)
        if to_wallet:
            credit(self.uow, self.events, customer_id=customer, currency=self.currency,
                   amount=to_wallet, reason=f"unplaced payment: {reason}",
                   booking_id=self.booking.id, now=self.now)
        return PaymentResult.trusted(outcome=outcome, replayed=False, booking=self.booking,
                                     payment=payment, refund=refund)
