"""Cancelling: status, capacity and refund together or not at all; never a second refund."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from bookcore.cancellation import (
    FULL_REFUND_BEFORE_START,
    AfterStart,
    RefundPolicy,
    RefundTier,
    cancel_booking,
)
from bookcore.catalog import add_inventory_item
from bookcore.clock import ManualClock
from bookcore.errors import (
    BookingNotFound,
    CancellationRefused,
    InvalidAmount,
    InvalidInput,
    InvalidTransition,
    NotAuthorized,
)
from bookcore.holds import expire_holds
from bookcore.model import Actor, Booking, BookingStatus, RefundMode
from bookcore.ports import UnitOfWork
from tests.world import World

TIERS = RefundPolicy(tiers=(RefundTier(min_notice=timedelta(hours=48), percent=Decimal(100)),
                            RefundTier(min_notice=timedelta(hours=24), percent=Decimal(50))),
                     after_start=AfterStart.REFUSE)


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


def paid_booking_of_a_show_starting_in(world: World, uow: UnitOfWork, clock: ManualClock,
                                       hours: int) -> Booking:
    add_inventory_item(uow, item_id="show", name="show", capacity=3, unit_price=Decimal("1000.00"),
                       currency="INR", starts_at=clock.now() + timedelta(hours=hours))
    booking = world.hold("alice", item_id="show")
    world.pay(booking)
    return booking


def test_by_default_a_paid_booking_is_refunded_in_full_until_its_item_starts(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    booking = paid_booking_of_a_show_starting_in(world, uow, clock, hours=2)
    clock.advance(timedelta(hours=2) - timedelta(microseconds=1))
    result = world.cancel(booking)
    assert result.refund is not None and result.refund.total == Decimal("1000.00")


@pytest.mark.parametrize("late", [timedelta(0), timedelta(hours=5)], ids=["at the start", "after it"])
@pytest.mark.parametrize("actor", [Actor.customer("alice"), Actor.staff("ops-1")], ids=["customer", "staff"])
def test_by_default_cancelling_once_the_item_has_started_is_refused_and_changes_nothing(
        world: World, uow: UnitOfWork, clock: ManualClock, late: timedelta, actor: Actor) -> None:
    booking = paid_booking_of_a_show_starting_in(world, uow, clock, hours=2)
    clock.advance(timedelta(hours=2) + late)
    with pytest.raises(CancellationRefused) as refused:
        cancel_booking(uow, booking_id=booking.id, actor=actor, clock=clock)
    assert refused.value.details["after_start"] == "refuse"
    assert world.booking(booking.id).status is BookingStatus.CONFIRMED
    assert world.available("show") == 2
    assert world.balance("alice") == 0


def test_staff_only_after_the_start_refuses_the_customer_and_refunds_the_best_tier_to_staff(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    booking = paid_booking_of_a_show_starting_in(world, uow, clock, hours=2)
    clock.advance(timedelta(hours=3))
    staff_only = TIERS.model_copy(update={"after_start": AfterStart.STAFF_ONLY})
    with pytest.raises(CancellationRefused):
        world.cancel(booking, policy=staff_only)
    result = cancel_booking(uow, booking_id=booking.id, actor=Actor.staff("ops-1"), clock=clock,
                            policy=staff_only)
    assert result.refund is not None and result.refund.total == Decimal("1000.00")
    assert world.available("show") == 3


def test_a_stated_percentage_after_the_start_is_refunded_to_whoever_cancels(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    booking = paid_booking_of_a_show_starting_in(world, uow, clock, hours=2)
    clock.advance(timedelta(hours=3))
    result = world.cancel(booking, policy=RefundPolicy(tiers=TIERS.tiers, after_start=Decimal("25")))
    assert result.refund is not None and result.refund.total == Decimal("250.00")
    assert world.balance("alice") == Decimal("250.00") and world.available("show") == 3


def test_a_policy_must_say_what_happens_after_the_start() -> None:
    with pytest.raises(InvalidInput, match="after_start"):
        RefundPolicy(tiers=TIERS.tiers)  # type: ignore[call-arg]
    for nonsense in ("refuse", Decimal("101"), -1, 12.5):
        with pytest.raises(InvalidAmount):
            RefundPolicy(tiers=TIERS.tiers, after_start=nonsense)  # type: ignore[arg-type]
    assert FULL_REFUND_BEFORE_START.after_start is AfterStart.REFUSE
