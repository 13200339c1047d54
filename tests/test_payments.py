"""Finalizing payment: one function for every path, idempotent, never confirming without money."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from bookcore.clock import ManualClock
from bookcore.errors import (
    BookingNotFound,
    CurrencyMismatch,
    HoldExpired,
    IdempotencyConflict,
    InsufficientWalletBalance,
    InvalidAmount,
    InvalidInput,
    InvalidTransition,
    PaymentMismatch,
)
from bookcore.holds import expire_holds
from bookcore.model import BookingStatus, PaymentOutcome, RefundMode
from bookcore.money import MAX_AMOUNT, ZERO
from bookcore.payments import finalize_payment
from bookcore.ports import UnitOfWork
from bookcore.refunds import refunds_owed
from bookcore.wallet import debit_wallet
from tests.world import World


@pytest.fixture
def world(uow: UnitOfWork, clock: ManualClock) -> World:
    w = World(uow, clock)
    w.item(capacity=2, price="1000.00")
    return w


def test_wallet_covering_total_needs_no_gateway(world: World) -> None:
    world.fund("alice", "1500.00")
    booking = world.hold("alice")
    assert booking.pricing.requires_gateway is False
    result = world.pay(booking, gateway=Decimal("0"))
    assert result.outcome is PaymentOutcome.CONFIRMED and result.confirmed
    assert result.payment.wallet_amount == Decimal("1000.00")
    assert result.payment.gateway_amount == 0
    assert world.booking(booking.id).status is BookingStatus.CONFIRMED
    assert world.balance("alice") == Decimal("500.00")


def test_wallet_plus_gateway_pays_the_rest_by_gateway(world: World) -> None:
    world.fund("alice", "300.00")
    booking = world.hold("alice")
    assert booking.pricing.gateway_payable == Decimal("700.00")
    result = world.pay(booking, gateway=Decimal("700.00"))
    assert result.outcome is PaymentOutcome.CONFIRMED
    assert (result.payment.wallet_amount, result.payment.gateway_amount) == (Decimal("300.00"),
                                                                             Decimal("700.00"))
    assert world.balance("alice") == 0


def test_gateway_only_payment(world: World) -> None:
    booking = world.hold("alice")
    result = world.pay(booking, gateway=Decimal("1000.00"))
    assert result.outcome is PaymentOutcome.CONFIRMED
    assert result.payment.wallet_amount == 0
    assert world.ledger("alice") == []


def test_a_retried_callback_moves_no_money_twice(world: World) -> None:
    world.fund("alice", "300.00")
    booking = world.hold("alice")
    first = world.pay(booking, key="gw-evt-1")
    again = world.pay(booking, key="gw-evt-1")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.payment == first.payment and again.outcome is first.outcome
    assert world.balance("alice") == 0
    assert [e.kind.value for e in world.ledger("alice")] == ["credit", "debit"]


def test_same_key_with_a_different_payload_is_refused(world: World, uow: UnitOfWork,
                                                      clock: ManualClock) -> None:
    booking = world.hold("alice")
    world.pay(booking, key="k")
    with pytest.raises(IdempotencyConflict):
        finalize_payment(uow, booking_id=booking.id, idempotency_key="k",
                         gateway_amount=Decimal("1000.00"), currency="INR", clock=clock,
                         gateway_reference="another-charge")
    other = world.hold("bob")
    with pytest.raises(IdempotencyConflict):
        world.pay(other, key="k")
    assert world.booking(other.id).status is BookingStatus.HELD


@pytest.mark.parametrize("mode", [RefundMode.WALLET, RefundMode.ORIGINAL])
@pytest.mark.parametrize("presented", ["999.99", "1000.01"])
def test_captured_money_of_the_wrong_amount_is_handed_back_and_recorded_once(
        world: World, uow: UnitOfWork, presented: str, mode: RefundMode) -> None:
    booking = world.hold("alice")
    money = Decimal(presented)
    result = world.pay(booking, key="ch-1", gateway=money, unplaced_money_to=mode,
                       gateway_reference="ch-1")
    again = world.pay(booking, key="ch-1", gateway=money, unplaced_money_to=mode,
                      gateway_reference="ch-1")
    wallet = mode is RefundMode.WALLET
    assert result.outcome is (PaymentOutcome.CREDITED_TO_WALLET if wallet
                              else PaymentOutcome.GATEWAY_REFUND_REQUIRED)
    assert (result.payment.reason, result.payment.gateway_amount) == ("amount_mismatch", money)
    assert result.refund is not None and result.refund.payment_id == result.payment.id
    assert (result.refund.to_wallet, result.refund.to_gateway) == ((money, ZERO) if wallet else (ZERO, money))
    assert result.refund.charge_reference == "ch-1"
    assert (again.replayed, again.outcome, again.refund) == (True, result.outcome, result.refund)
    assert world.balance("alice") == (money if wallet else 0)
    assert refunds_owed(uow) == (() if wallet else (result.refund,))
    assert world.booking(booking.id).status is BookingStatus.HELD


def test_no_gateway_money_against_an_amount_owed_is_refused(world: World) -> None:
    booking = world.hold("alice")
    with pytest.raises(PaymentMismatch) as refused:
        world.pay(booking, gateway=Decimal("0"))
    assert refused.value.details["expected"] == Decimal("1000.00")
    assert world.booking(booking.id).status is BookingStatus.HELD


def test_captured_money_in_another_currency_is_owed_back_through_the_gateway(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    booking = world.hold("alice")
    result = finalize_payment(uow, booking_id=booking.id, idempotency_key="k",
                              gateway_amount=Decimal("1000.00"), currency="USD", clock=clock)
    assert result.outcome is PaymentOutcome.GATEWAY_REFUND_REQUIRED
    assert result.payment.reason == "currency_mismatch" and result.payment.currency == "USD"
    assert result.refund is not None
    assert (result.refund.currency, result.refund.to_gateway) == ("USD", Decimal("1000.00"))
    assert refunds_owed(uow) == (result.refund,)
    assert world.balance("alice") == 0 and world.balance("alice", "USD") == 0
    assert world.booking(booking.id).status is BookingStatus.HELD


def test_a_wallet_only_payment_in_another_currency_is_refused(world: World, uow: UnitOfWork,
                                                              clock: ManualClock) -> None:
    world.fund("alice", "1000.00")
    booking = world.hold("alice")
    with pytest.raises(CurrencyMismatch):
        finalize_payment(uow, booking_id=booking.id, idempotency_key="k",
                         gateway_amount=Decimal("0"), currency="USD", clock=clock)
    assert world.booking(booking.id).status is BookingStatus.HELD


def test_captured_money_a_wallet_cannot_hold_is_owed_back_through_the_gateway(
        world: World, uow: UnitOfWork) -> None:
    world.fund("alice", "1.00")
    booking = world.hold("alice")
    result = world.pay(booking, gateway=MAX_AMOUNT)
    assert result.outcome is PaymentOutcome.GATEWAY_REFUND_REQUIRED
    assert result.payment.reason == "amount_mismatch"
    assert refunds_owed(uow) == (result.refund,)
    assert world.balance("alice") == Decimal("1.00")


@pytest.mark.parametrize("amount", [1000.0, "NaN", "-1000.00", "1000.001"])
def test_hostile_gateway_amounts_are_refused(world: World, amount: object) -> None:
    booking = world.hold("alice")
    with pytest.raises(InvalidAmount):
        world.pay(booking, gateway=amount)  # type: ignore[arg-type]


def test_unknown_booking_and_bad_keys_are_refused(world: World, uow: UnitOfWork,
                                                  clock: ManualClock) -> None:
    with pytest.raises(BookingNotFound):
        finalize_payment(uow, booking_id="nope", idempotency_key="k", gateway_amount=Decimal("1"),
                         currency="INR", clock=clock)
    booking = world.hold("alice")
    for key in ("", "x" * 129, "tab\there"):
        with pytest.raises(InvalidInput):
            world.pay(booking, key=key)


def test_wallet_only_payment_after_the_hold_lapsed_is_refused_before_any_sweep(
        world: World, clock: ManualClock) -> None:
    world.fund("alice", "1000.00")
    booking = world.hold("alice")
    clock.advance(timedelta(minutes=10))  # exactly expires_at: lapsed
    with pytest.raises(HoldExpired):
        world.pay(booking)
    assert world.balance("alice") == Decimal("1000.00")
    assert world.booking(booking.id).status is BookingStatus.HELD


def test_late_gateway_money_confirms_when_capacity_is_still_there(world: World, uow: UnitOfWork,
                                                                  clock: ManualClock) -> None:
    booking = world.hold("alice")
    clock.advance(timedelta(minutes=11))
    expire_holds(uow, clock=clock)
    result = world.pay(booking)
    assert result.outcome is PaymentOutcome.CONFIRMED_LATE
    assert world.booking(booking.id).status is BookingStatus.CONFIRMED
    assert world.available() == 1


def test_late_gateway_money_on_an_unswept_hold_confirms_it(world: World, clock: ManualClock) -> None:
    booking = world.hold("alice")
    clock.advance(timedelta(minutes=10))
    result = world.pay(booking)
    assert result.outcome is PaymentOutcome.CONFIRMED_LATE
    assert world.available() == 1


def test_late_gateway_money_without_capacity_is_credited_to_the_wallet(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    late = world.hold("alice", quantity=2)
    clock.advance(timedelta(minutes=10))
    world.hold("bob", quantity=2)  # reclaims alice's lapsed hold
    result = world.pay(late)
    assert result.outcome is PaymentOutcome.CREDITED_TO_WALLET
    assert result.payment.reason == "hold_expired_no_capacity"
    assert result.refund is not None and result.refund.to_wallet == Decimal("2000.00")
    assert world.balance("alice") == Decimal("2000.00")
    assert world.booking(late.id).status is BookingStatus.EXPIRED
    again = world.pay(late)
    assert again.replayed and world.balance("alice") == Decimal("2000.00")


def test_late_money_can_be_sent_back_through_the_gateway(world: World, clock: ManualClock) -> None:
    booking = world.hold("alice")
    clock.advance(timedelta(minutes=10))
    result = world.pay(booking, accept_late_payment=False, unplaced_money_to=RefundMode.ORIGINAL)
    assert result.outcome is PaymentOutcome.GATEWAY_REFUND_REQUIRED
    assert result.refund is not None and result.refund.to_gateway == Decimal("1000.00")
    assert world.balance("alice") == 0
    assert world.booking(booking.id).status is BookingStatus.EXPIRED
    assert world.available() == 2


def test_refund_modes_may_be_given_by_value_and_nonsense_is_refused_before_anything_moves(
        world: World, clock: ManualClock) -> None:
    booking = world.hold("alice")
    clock.advance(timedelta(minutes=10))
    for mode, late in (("sideways", False), (None, False), (RefundMode.WALLET, "yes")):
        with pytest.raises(InvalidInput):
            world.pay(booking, accept_late_payment=late, unplaced_money_to=mode)
    assert world.booking(booking.id).status is BookingStatus.HELD and world.available() == 1
    result = world.pay(booking, accept_late_payment=False, unplaced_money_to="original")
    assert result.outcome is PaymentOutcome.GATEWAY_REFUND_REQUIRED
    assert result.refund is not None and result.refund.mode is RefundMode.ORIGINAL


def test_wallet_is_rechecked_at_finalize(world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    world.fund("alice", "1000.00")
    booking = world.hold("alice")
    debit_wallet(uow, customer_id="alice", amount=Decimal("1"), currency="INR", reason="spent",
                 clock=clock)
    with pytest.raises(InsufficientWalletBalance):
        world.pay(booking)
    assert world.booking(booking.id).status is BookingStatus.HELD
    assert world.balance("alice") == Decimal("999.00")


def test_gateway_money_is_handed_back_when_the_wallet_fell_short(world: World, uow: UnitOfWork,
                                                                 clock: ManualClock) -> None:
    world.fund("alice", "400.00")
    booking = world.hold("alice")
    debit_wallet(uow, customer_id="alice", amount=Decimal("400.00"), currency="INR", reason="spent",
                 clock=clock)
    result = world.pay(booking)
    assert result.outcome is PaymentOutcome.CREDITED_TO_WALLET
    assert world.balance("alice") == Decimal("600.00")
    assert world.booking(booking.id).status is BookingStatus.HELD


def test_gateway_money_the_short_wallet_cannot_use_goes_back_the_way_it_is_asked_to(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    world.fund("alice", "400.00")
    booking = world.hold("alice")
    debit_wallet(uow, customer_id="alice", amount=Decimal("400.00"), currency="INR", reason="spent",
                 clock=clock)
    result = world.pay(booking, unplaced_money_to=RefundMode.ORIGINAL)
    assert result.outcome is PaymentOutcome.GATEWAY_REFUND_REQUIRED
    assert result.payment.reason == "wallet_insufficient"
    assert result.refund is not None and result.refund.to_gateway == booking.pricing.gateway_payable
    assert result.refund.to_wallet == Decimal("0.00")
    assert world.balance("alice") == Decimal("0.00")
    assert world.booking(booking.id).status is BookingStatus.HELD


def test_a_wallet_that_fell_short_logs_no_confirmation_and_keeps_one_payment(
        world: World, uow: UnitOfWork, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    # The debit comes last: the confirmation written before it must roll back with it, log lines
    # and payment row included, and the retried payment with the same key replays the refund.
    world.fund("alice", "400.00")
    booking = world.hold("alice")
    debit_wallet(uow, customer_id="alice", amount=Decimal("0.01"), currency="INR", reason="spent",
                 clock=clock)
    with caplog.at_level(logging.INFO, logger="bookcore"):
        result = world.pay(booking, key="k1")
        again = world.pay(booking, key="k1")
    tags = [getattr(r, "bookcore_event", None) for r in caplog.records]
    assert tags == ["PAYMENT_FINALIZED", "WALLET_CREDITED", "PAYMENT_REPLAYED"]
    assert result.outcome is PaymentOutcome.CREDITED_TO_WALLET
    assert result.payment.reason == "wallet_insufficient"
    assert again.replayed and again.payment.id == result.payment.id
    assert world.booking(booking.id).status is BookingStatus.HELD
    assert world.balance("alice") == Decimal("399.99") + booking.pricing.gateway_payable


def test_paying_a_confirmed_booking_again_with_a_new_key(world: World) -> None:
    world.fund("alice", "1000.00")
    wallet_only = world.hold("alice")
    world.pay(wallet_only, key="a")
    with pytest.raises(InvalidTransition):
        world.pay(wallet_only, key="b")
    gateway = world.hold("bob")
    world.pay(gateway, key="c")
    duplicate = world.pay(gateway, key="d")  # a second capture of the same order
    assert duplicate.outcome is PaymentOutcome.CREDITED_TO_WALLET
    assert duplicate.payment.reason == "booking_confirmed"
    assert world.balance("bob") == Decimal("1000.00")


def test_money_for_a_cancelled_booking_is_handed_back(world: World) -> None:
    booking = world.hold("alice")
    world.cancel(booking)
    result = world.pay(booking, unplaced_money_to=RefundMode.ORIGINAL)
    assert result.outcome is PaymentOutcome.GATEWAY_REFUND_REQUIRED
    assert world.booking(booking.id).status is BookingStatus.CANCELLED


def test_finalize_logs_payment_booking_and_wallet_lines(world: World,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    world.fund("alice", "200.00")
    booking = world.hold("alice")
    with caplog.at_level(logging.INFO, logger="bookcore"):
        world.pay(booking, key="k1")
        world.pay(booking, key="k1")
    tags = [getattr(r, "bookcore_event", None) for r in caplog.records]
    assert tags == ["WALLET_DEBITED", "PAYMENT_FINALIZED", "BOOKING_CONFIRMED", "PAYMENT_REPLAYED"]
