"""The outbox: every event a service produces is stored with the change, and consumers read each
one at least once, in order, from their own acknowledged position. On every backend."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for
from bookcore.clock import ManualClock
from bookcore.errors import InsufficientInventory, InvalidInput
from bookcore.holds import expire_holds
from bookcore.outbox import acknowledge, consume, consumer_position, read_events
from bookcore.ports import UnitOfWork
from bookcore.stored_events import StoredEvent
from tests.backends import engine_options, fresh_engine
from tests.conftest import START
from tests.world import World


def names(events: tuple[StoredEvent, ...]) -> list[str]:
    return [e.name for e in events]


def test_a_hold_is_in_the_outbox_with_exact_amounts(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item(capacity=1, price="19.99")
    booking = world.hold()
    with pytest.raises(InsufficientInventory):
        world.hold(customer="bob")
    stored = read_events(uow)
    assert names(stored) == ["INVENTORY_ADDED", "BOOKING_HELD"]
    held = stored[1]
    assert held.booking_id == booking.id
    assert held.payload["total_amount"] == "19.99"
    assert held.payload["customer_id"] == "alice"
    assert held.position > stored[0].position


def test_payment_and_wallet_events_are_in_the_outbox(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item(price="100.00")
    world.fund("alice", "30.00")
    booking = world.hold()
    world.pay(booking)
    got = names(read_events(uow))
    assert got[:3] == ["INVENTORY_ADDED", "WALLET_CREDITED", "BOOKING_HELD"]
    assert "PAYMENT_FINALIZED" in got and "BOOKING_CONFIRMED" in got


def test_expiry_by_sweep_and_by_a_later_hold_lands_in_the_outbox(uow: UnitOfWork,
                                                                 clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item(capacity=1)
    world.item("room-102", capacity=1)
    swept = world.hold(item_id="room-102")
    reclaimed = world.hold()
    clock.advance(timedelta(days=1))
    world.hold(customer="bob")  # reclaims room-101's lapsed hold inline
    result = expire_holds(uow, clock=clock)
    assert result.expired_bookings == 1
    expired = [e.booking_id for e in read_events(uow) if e.name == "BOOKING_EXPIRED"]
    assert expired == [reclaimed.id, swept.id]


def test_read_events_pages_by_position(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    for i in range(5):
        world.item(f"room-{i}")
    first = read_events(uow, limit=2)
    rest = read_events(uow, after=first[-1].position, limit=10)
    assert names(first + rest) == ["INVENTORY_ADDED"] * 5
    assert [e.payload["item_id"] for e in first + rest] == [f"room-{i}" for i in range(5)]
    assert read_events(uow, after=rest[-1].position) == ()


def test_each_consumer_has_its_own_position(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item("a")
    world.item("b")
    last = read_events(uow)[-1].position
    assert acknowledge(uow, consumer="mailer", position=last) == last
    assert acknowledge(uow, consumer="mailer", position=0) == last  # never moves back
    assert consumer_position(uow, consumer="mailer") == last
    assert consumer_position(uow, consumer="search") == 0


def test_a_failed_handler_gets_the_same_events_again(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item("a")
    world.item("b")
    seen: list[int] = []

    def crash(batch: tuple[StoredEvent, ...]) -> None:
        raise RuntimeError("mail server down")

    with pytest.raises(RuntimeError):
        consume(uow, consumer="mailer", handle=crash)
    assert consume(uow, consumer="mailer", handle=lambda b: seen.extend(e.position for e in b)) == 2
    assert consume(uow, consumer="mailer", handle=lambda b: seen.extend(e.position for e in b)) == 0
    assert len(seen) == 2
    assert consumer_position(uow, consumer="mailer") == seen[-1]


def test_bad_positions_and_consumer_names_are_refused(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidInput) as after:
        read_events(uow, after=-1)
    assert after.value.details["field"] == "after"
    with pytest.raises(InvalidInput) as consumer:
        acknowledge(uow, consumer="", position=1)
    assert consumer.value.details["field"] == "consumer"


@pytest.mark.parametrize("kind", [pytest.param("postgres", marks=pytest.mark.postgres),
                                  pytest.param("mariadb", marks=pytest.mark.mariadb)])
def test_consumers_racing_writers_see_every_event_once_in_order(kind: str, tmp_path: Path) -> None:
    base = fresh_engine(kind, tmp_path)
    writers, per_writer = 8, 15
    engine = create_engine_for(base.url.render_as_string(hide_password=False),
                               pool_size=writers + 6, max_overflow=0, **engine_options(kind))
    clock = ManualClock(START)
    done = threading.Event()
    seen: list[int] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        world = World(SqlAlchemyUnitOfWork(engine), clock)
        for n in range(per_writer):
            world.fund(f"c{i}", "1.00")
            if n % 5 == 0:
                world.item(f"item-{i}-{n}")

    def take(batch: tuple[StoredEvent, ...]) -> None:
        with lock:
            seen.extend(e.position for e in batch)

    def read_along() -> None:
        uow = SqlAlchemyUnitOfWork(engine)
        while not done.is_set():
            consume(uow, consumer="mailer", handle=take, limit=7)
        while consume(uow, consumer="mailer", handle=take, limit=7):
            pass

    try:
        with ThreadPoolExecutor(max_workers=writers + 2) as pool:
            readers = [pool.submit(read_along) for _ in range(2)]  # two processes of one consumer
            list(pool.map(write, range(writers)))
            done.set()
            for reader in readers:
                reader.result()
        everything = [e.position for e in read_events(SqlAlchemyUnitOfWork(engine), limit=10_000)]
        assert len(everything) == writers * (per_writer + 3)
        assert sorted(seen) == everything  # none skipped, none twice
    finally:
        engine.dispose()


def test_amounts_in_payloads_are_strings(uow: UnitOfWork, clock: ManualClock) -> None:
    World(uow, clock).fund("alice", "12.50")
    (credited,) = read_events(uow)
    assert credited.payload["amount"] == "12.50"
    assert Decimal(credited.payload["amount"]) == Decimal("12.50")
