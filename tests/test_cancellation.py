"""Cancelling: status, capacity and refund together or not at all; never a second refund."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from bookcore.cancellation import RefundPolicy, RefundTier, cancel_booking
from bookcore.catalog import add_inventory_item
from bookcore.clock import ManualClock
from bookcore.errors import BookingNotFound, InvalidInput, InvalidTransition, NotAuthorized
from bookcore.holds import expire_holds
from bookcore.model import Actor, BookingStatus, RefundMode
from bookcore.ports import UnitOfWork
from tests.world import World

TIERS = RefundPolicy(tiers=(RefundTier(min_notice=timedelta(hours=48), percent=Decimal(100)),
                            RefundTier(min_notice=timedelta(hours=24), percent=Decimal(50))))


@pytest.fixture
def world(uow: UnitOfWork, clock: ManualClock) -> World:
    w = World(uow, clock)
    w.item(capacity=3, price="1000.00")
    return w


def test_cancelling_a_hold_releases_capacity_and_refunds_nothing(world: World) -> None:
    booking = world.hold("alice", quantity=2)
    result = world.cancel(booking)
    assert result.old_status is BookingStatus.HELD and result.refund is None
    assert result.released_units == 2
    assert world.booking(booking.id).status is BookingStatus.CANCELLED
    assert world.available() == 3
    assert world.ledger("alice") == []


def test_cancelling_a_paid_booking_refunds_everything_to_the_wallet(world: World) -> None:
    world.fund("alice", "400.00")
    booking = world.hold("alice")
    world.pay(booking)
    result = world.cancel(booking, refund_mode=RefundMode.WALLET)
    assert result.refund is not None
    assert (result.refund.to_wallet, result.refund.to_gateway) == (Decimal("1000.00"), Decimal(0))
    assert world.balance("alice") == Decimal("1000.00")
    assert world.available() == 3


def test_original_mode_returns_the_wallet_part_and_records_the_gateway_part(world: World) -> None:
    world.fund("alice", "400.00")
    booking = world.hold("alice")
    world.pay(booking)
    result = world.cancel(booking, refund_mode=RefundMode.ORIGINAL)
    assert result.refund is not None
    assert (result.refund.to_wallet, result.refund.to_gateway) == (Decimal("400.00"),
                                                                   Decimal("600.00"))
    assert world.balance("alice") == Decimal("400.00")


def test_refund_mode_by_value_works_and_nonsense_is_refused_before_anything_moves(
        world: World) -> None:
    booking = world.hold("alice")
    world.pay(booking)
    with pytest.raises(InvalidInput):
        world.cancel(booking, refund_mode="to the moon")
    assert world.booking(booking.id).status is BookingStatus.CONFIRMED
    result = world.cancel(booking, refund_mode="original")
    assert result.refund is not None and result.refund.mode is RefundMode.ORIGINAL
    assert result.refund.to_gateway == Decimal("1000.00")


def test_refund_tiers_follow_the_notice_before_the_booked_date(uow: UnitOfWork,
                                                               clock: ManualClock) -> None:
    world = World(uow, clock)
    add_inventory_item(uow, item_id="show", name="show", capacity=3, unit_price=Decimal("1000.00"),
                       currency="INR", starts_at=clock.now() + timedelta(hours=72))
    early, middle, late = (world.hold(c, item_id="show") for c in ("a", "b", "c"))
    for i, booking in enumerate((early, middle, late)):
        world.pay(booking, key=f"k{i}")
    refunds = [world.cancel(early, policy=TIERS).refund]
    clock.advance(timedelta(hours=30))  # 42h notice
    refunds.append(world.cancel(middle, policy=TIERS).refund)
    clock.advance(timedelta(hours=20))  # 22h notice
    refunds.append(world.cancel(late, policy=TIERS).refund)
    amounts = [r.total if r else None for r in refunds]
    assert amounts == [Decimal("1000.00"), Decimal("500.00"), None]
    assert world.available("show") == 3


def test_cancelling_twice_is_refused_and_refunds_once(world: World) -> None:
    booking = world.hold("alice")
    world.pay(booking)
    world.cancel(booking)
    with pytest.raises(InvalidTransition):
        world.cancel(booking)
    assert world.balance("alice") == Decimal("1000.00")
    assert world.available() == 3


def test_only_the_owner_or_staff_may_cancel(world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    booking = world.hold("alice")
    with pytest.raises(NotAuthorized):
        world.cancel(booking, by="mallory")
    assert world.booking(booking.id).status is BookingStatus.HELD
    result = cancel_booking(uow, booking_id=booking.id, actor=Actor.staff("ops-1"), clock=clock)
    assert result.booking.status is BookingStatus.CANCELLED


def test_expired_or_unknown_bookings_cannot_be_cancelled(world: World, uow: UnitOfWork,
                                                         clock: ManualClock) -> None:
    booking = world.hold("alice")
    clock.advance(timedelta(minutes=10))
    expire_holds(uow, clock=clock)
    with pytest.raises(InvalidTransition):
        world.cancel(booking)
    with pytest.raises(BookingNotFound):
        cancel_booking(uow, booking_id="nope", actor=Actor.staff("ops"), clock=clock)
    assert world.available() == 3


def test_cancellation_logs_the_state_change_proof(world: World,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    booking = world.hold("alice")
    world.pay(booking)
    with caplog.at_level(logging.INFO, logger="bookcore"):
        world.cancel(booking)
    [line] = [r for r in caplog.records if getattr(r, "bookcore_event", None) == "BOOKING_CANCELLED"]
    message = line.getMessage()
    for field in ("old_status=confirmed", "refund_amount=1000.00", "refund_mode=wallet",
                  "inventory_released=True"):
        assert field in message
    assert any(getattr(r, "bookcore_event", None) == "WALLET_CREDITED" for r in caplog.records)
