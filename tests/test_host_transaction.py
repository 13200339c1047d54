"""bookcore inside a caller's transaction: ``SqlAlchemyUnitOfWork(connection)`` works in a
SAVEPOINT of the caller's transaction and leaves committing, or not, to the caller."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import Connection, Engine

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for
from bookcore.auditing import audit
from bookcore.clock import ManualClock
from bookcore.errors import BookcoreError, InsufficientInventory, StorageError
from bookcore.holds import place_hold
from bookcore.model import Booking
from tests.backends import engine_options, fresh_engine
from tests.conftest import START
from tests.world import World

host = MetaData()
orders = Table("host_orders", host, Column("id", String(64), primary_key=True),
               Column("booking_id", String(64)))


@pytest.fixture
def app_engine(engine: Engine) -> Iterator[Engine]:
    """A bookcore database that also holds a table of the host app's own."""
    host.create_all(engine)
    yield engine
    host.drop_all(engine)


def hold_in(connection: Connection, clock: ManualClock, customer: str = "alice",
            quantity: int = 1) -> Booking:
    return place_hold(SqlAlchemyUnitOfWork(connection), item_id="room-101", customer_id=customer,
                      quantity=quantity, clock=clock).booking


def order_ids(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(orders.c.id).order_by(orders.c.id)).scalars())


def test_a_caller_rollback_leaves_no_trace_of_bookcore_work(app_engine: Engine, clock: ManualClock) -> None:
    world = World(SqlAlchemyUnitOfWork(app_engine), clock)
    world.item(capacity=2)
    with app_engine.connect() as connection, connection.begin() as transaction:
        booking = hold_in(connection, clock)
        connection.execute(insert(orders), {"id": "order-1", "booking_id": booking.id})
        transaction.rollback()
    assert world.available() == 2
    assert order_ids(app_engine) == []
    assert audit(world.uow, clock=clock).violations == ()


def test_a_refusal_rolls_back_only_its_own_savepoint(app_engine: Engine, clock: ManualClock) -> None:
    world = World(SqlAlchemyUnitOfWork(app_engine), clock)
    world.item(capacity=1)
    with app_engine.connect() as connection, connection.begin():
        first = hold_in(connection, clock)
        connection.execute(insert(orders), {"id": "order-1", "booking_id": first.id})
        with pytest.raises(InsufficientInventory):
            hold_in(connection, clock, customer="bob")
        connection.execute(insert(orders), {"id": "order-2", "booking_id": None})
    assert order_ids(app_engine) == ["order-1", "order-2"]
    assert world.booking(first.id).customer_id == "alice"
    assert world.available() == 0


def test_events_are_logged_only_when_the_caller_commits(app_engine: Engine, clock: ManualClock,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    World(SqlAlchemyUnitOfWork(app_engine), clock).item(capacity=3)
    caplog.set_level(logging.INFO, logger="bookcore")
    caplog.clear()
    with app_engine.connect() as connection:
        with connection.begin() as transaction:
            hold_in(connection, clock, customer="rolled-back")
            transaction.rollback()
        with connection.begin():
            hold_in(connection, clock, customer="kept")
            assert [r for r in caplog.records if "BOOKING_HELD" in r.getMessage()] == []
    held = [r.getMessage() for r in caplog.records if "BOOKING_HELD" in r.getMessage()]
    assert len(held) == 1
    assert "customer_id=kept" in held[0]


def test_a_connection_outside_a_transaction_is_refused(engine: Engine, clock: ManualClock) -> None:
    World(SqlAlchemyUnitOfWork(engine), clock).item()
    with engine.connect() as connection, pytest.raises(StorageError, match="in a transaction"):
        hold_in(connection, clock)


@pytest.mark.postgres
def test_many_requests_in_their_own_transactions_never_oversell(tmp_path: Path) -> None:
    base = fresh_engine("postgres", tmp_path)
    workers, capacity = 24, 5
    engine = create_engine_for(base.url.render_as_string(hide_password=False),
                               pool_size=workers + 2, max_overflow=0, **engine_options("postgres"))
    host.create_all(engine)
    clock = ManualClock(START)
    World(SqlAlchemyUnitOfWork(engine), clock).item(capacity=capacity)
    barrier = threading.Barrier(workers)

    def request(i: int) -> str | BookcoreError:
        with engine.connect() as connection, connection.begin():
            connection.execute(insert(orders), {"id": f"order-{i}", "booking_id": None})
            barrier.wait()
            try:
                return hold_in(connection, clock, customer=f"c{i}").id
            except BookcoreError as error:
                return error

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(request, range(workers)))
        held = [r for r in results if isinstance(r, str)]
        assert len(held) == capacity
        assert all(isinstance(r, InsufficientInventory) for r in results if not isinstance(r, str))
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(orders)).scalar() == workers
        world = World(SqlAlchemyUnitOfWork(engine), clock)
        assert world.available() == 0
        assert audit(world.uow, clock=clock).violations == ()
    finally:
        host.drop_all(engine)
        engine.dispose()
