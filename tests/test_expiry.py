"""The expiry sweep: lapsed holds expire once, live holds never, capacity comes back."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bookcore.clock import ManualClock
from bookcore.errors import InvalidInput, StorageError
from bookcore.holds import expire_holds
from bookcore.model import BookingStatus
from bookcore.ports import UnitOfWork
from tests.world import World


@pytest.fixture
def world(uow: UnitOfWork, clock: ManualClock) -> World:
    w = World(uow, clock)
    w.item(capacity=10)
    return w


def test_sweep_expires_lapsed_holds_and_releases_capacity(world: World, uow: UnitOfWork,
                                                          clock: ManualClock) -> None:
    lapsed = world.hold("alice", quantity=3)
    clock.advance(timedelta(minutes=5))
    live = world.hold("bob", quantity=2)
    clock.advance(timedelta(minutes=5))  # alice's hold is at exactly expires_at
    result = expire_holds(uow, clock=clock)
    assert (result.expired_bookings, result.released_units) == (1, 3)
    assert world.booking(lapsed.id).status is BookingStatus.EXPIRED
    assert world.booking(lapsed.id).expired_at == clock.now()
    assert world.booking(live.id).status is BookingStatus.HELD
    assert world.available() == 8


def test_sweep_never_expires_a_hold_early(world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    booking = world.hold("alice")
    clock.advance(timedelta(minutes=10) - timedelta(microseconds=1))
    assert expire_holds(uow, clock=clock).expired_bookings == 0
    assert world.booking(booking.id).status is BookingStatus.HELD


def test_sweep_is_idempotent(world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    world.hold("alice", quantity=4)
    clock.advance(timedelta(minutes=15))
    assert expire_holds(uow, clock=clock).released_units == 4
    again = expire_holds(uow, clock=clock)
    assert (again.expired_bookings, again.released_units) == (0, 0)
    assert world.available() == 10


def test_sweep_works_in_batches_and_a_cut_off_run_loses_nothing(world: World, uow: UnitOfWork,
                                                                clock: ManualClock) -> None:
    for customer in range(7):
        world.hold(f"c{customer}")
    clock.advance(timedelta(minutes=10))
    partial = expire_holds(uow, clock=clock, batch_size=3, max_batches=1)
    assert (partial.expired_bookings, partial.batches) == (3, 1)
    assert world.available() == 6
    rest = expire_holds(uow, clock=clock, batch_size=3)
    assert (rest.expired_bookings, rest.batches) == (4, 2)
    assert world.available() == 10


def test_confirmed_and_cancelled_bookings_are_left_alone(world: World, uow: UnitOfWork,
                                                         clock: ManualClock) -> None:
    paid = world.hold("alice")
    world.pay(paid)
    cancelled = world.hold("bob")
    world.cancel(cancelled)
    clock.advance(timedelta(hours=1))
    assert expire_holds(uow, clock=clock).expired_bookings == 0
    assert world.booking(paid.id).status is BookingStatus.CONFIRMED
    assert world.available() == 9


@pytest.mark.parametrize("batch_size", [0, -1, True, 10**6, "5"])
def test_bad_batch_sizes_are_refused(uow: UnitOfWork, clock: ManualClock, batch_size: object) -> None:
    with pytest.raises(InvalidInput):
        expire_holds(uow, clock=clock, batch_size=batch_size)  # type: ignore[arg-type]


def test_each_expiry_is_logged(world: World, uow: UnitOfWork, clock: ManualClock,
                               caplog: pytest.LogCaptureFixture) -> None:
    booking = world.hold("alice", quantity=2)
    clock.advance(timedelta(minutes=10))
    with caplog.at_level(logging.INFO, logger="bookcore"):
        expire_holds(uow, clock=clock)
    [line] = [r for r in caplog.records if getattr(r, "bookcore_event", None) == "BOOKING_EXPIRED"]
    assert f"booking_id={booking.id}" in line.getMessage() and "quantity=2" in line.getMessage()


def test_one_batch_over_hundreds_of_items_gives_each_its_own_units_back(
        uow: UnitOfWork, clock: ManualClock) -> None:
    # More items than one release statement takes (RELEASE_CHUNK), with different quantities,
    # so a release that mixed up items or chunks would leave some item's count wrong.
    world = World(uow, clock)
    items = [f"room-{number:03}" for number in range(230)]
    for number, item_id in enumerate(items):
        world.item(item_id, capacity=5)
        world.hold(f"c{number}", item_id=item_id, quantity=number % 3 + 1)
    clock.advance(timedelta(minutes=10))
    result = expire_holds(uow, clock=clock, batch_size=1000)
    assert (result.expired_bookings, result.batches) == (230, 1)
    assert result.released_units == sum(number % 3 + 1 for number in range(230))
    assert [world.available(item_id) for item_id in items] == [5] * 230


def test_a_release_that_would_exceed_capacity_changes_no_item(uow: UnitOfWork,
                                                             clock: ManualClock) -> None:
    world = World(uow, clock)
    for item_id in ("room-a", "room-b", "room-c"):
        world.item(item_id, capacity=5)
        world.hold(item_id=item_id, quantity=2)
    with pytest.raises(StorageError), uow:
        # room-b holds 2 units; giving back 3 would make 6 of 5.
        uow.inventory.release({"room-a": 2, "room-b": 3, "room-c": 2})
        uow.commit()
    assert [world.available(item_id) for item_id in ("room-a", "room-b", "room-c")] == [3, 3, 3]
