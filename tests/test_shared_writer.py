"""On a SQLite file an engine's units of work take turns on one connection, kept between turns
(writer.py): taken from the pool once, replaced when lost, closed when the engine is disposed."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from bookcore import SystemClock, add_inventory_item, place_hold
from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from bookcore.adapters.sqlalchemy.engine import writer_for
from bookcore.adapters.sqlalchemy.prepared import Prepared
from bookcore.adapters.sqlalchemy.tables import inventory_items
from bookcore.errors import AlreadyExists, TransientConflict
from tests.backends import fresh_engine

_TAKE_ONE = Prepared(update(inventory_items).where(inventory_items.c.id == bindparam("item_id"))
                     .values(available=inventory_items.c.available - 1))


def _checkouts(engine: Engine) -> list[Any]:
    """The DBAPI connection of every checkout from the engine's pool, from now on."""
    taken: list[Any] = []
    event.listen(engine, "checkout", lambda dbapi_connection, _record, _proxy: taken.append(dbapi_connection))
    return taken


def _checked_out(engine: Engine) -> int:
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def _is_closed(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


def _available(engine: Engine) -> int:
    # Read beside the engine, so the pool's checkouts count only the units of work's.
    with contextlib.closing(sqlite3.connect(str(engine.url.database))) as connection:
        return int(connection.execute("SELECT available FROM inventory_items").fetchone()[0])


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A SQLite file holding one item of 1,000 places; the engine's turns have not started yet."""
    engine = fresh_engine("sqlite", tmp_path)
    add_inventory_item(SqlAlchemyUnitOfWork(engine), item_id="room", name="Room", capacity=1000,
                       unit_price="10.00", currency="EUR")
    engine.dispose()  # the next turn takes its connection from the pool afresh, under _checkouts
    return engine


def test_every_turn_of_every_thread_runs_on_one_connection_the_pool_does_not_count(engine: Engine) -> None:
    taken, clock = _checkouts(engine), SystemClock()

    def customer(index: int) -> None:
        uow = SqlAlchemyUnitOfWork(engine)
        for _ in range(20):
            place_hold(uow, item_id="room", customer_id=f"c{index}", quantity=1, clock=clock)

    threads = [threading.Thread(target=customer, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _available(engine) == 1000 - 8 * 20
    assert len(taken) == 1
    assert _checked_out(engine) == 0  # detached: the pool can still hand out its full size


def test_a_failed_statement_keeps_the_connection(engine: Engine) -> None:
    taken, uow = _checkouts(engine), SqlAlchemyUnitOfWork(engine)
    with pytest.raises(AlreadyExists):
        add_inventory_item(uow, item_id="room", name="Again", capacity=1, unit_price="1.00",
                           currency="EUR")
    with uow:
        uow.run(_TAKE_ONE, {"item_id": "room"})
        uow.commit()
    assert _available(engine) == 999
    assert len(taken) == 1


def test_a_core_statement_in_a_turn_leaves_the_connection_open_for_the_next(engine: Engine) -> None:
    taken, uow = _checkouts(engine), SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.run(select(inventory_items.c.available)).scalar_one() == 1000  # through Core
        uow.run(_TAKE_ONE, {"item_id": "room"})
        uow.commit()
    with uow:
        uow.run(_TAKE_ONE, {"item_id": "room"})
        uow.commit()
    assert _available(engine) == 998
    assert len(taken) == 1 and not _is_closed(taken[0])


def test_a_lost_connection_is_replaced_at_the_next_turn(engine: Engine) -> None:
    taken, uow = _checkouts(engine), SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.run(_TAKE_ONE, {"item_id": "room"})
        taken[0].close()  # as if the file's handle went away under the transaction
        with pytest.raises(TransientConflict):
            uow.run(_TAKE_ONE, {"item_id": "room"})
    with uow:
        uow.run(_TAKE_ONE, {"item_id": "room"})
        uow.commit()
    assert _available(engine) == 999  # the lost transaction's take never happened
    assert len(taken) == 2 and taken[1] is not taken[0]


def test_dispose_closes_the_kept_connection_and_the_next_turn_opens_another(engine: Engine) -> None:
    taken, uow = _checkouts(engine), SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.run(_TAKE_ONE, {"item_id": "room"})
        uow.commit()
    engine.dispose()
    assert _is_closed(taken[0])
    with uow:
        uow.run(_TAKE_ONE, {"item_id": "room"})
        uow.commit()
    assert len(taken) == 2 and not _is_closed(taken[1])
    assert _available(engine) == 998


def test_dispose_during_a_turn_lets_it_finish_then_closes_its_connection(engine: Engine) -> None:
    taken, uow = _checkouts(engine), SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.run(_TAKE_ONE, {"item_id": "room"})
        engine.dispose()  # from another part of the app: a connection in use is not pulled away
        uow.run(_TAKE_ONE, {"item_id": "room"})
        uow.commit()
    assert _is_closed(taken[0])
    assert _available(engine) == 998


def test_the_kept_connection_is_outside_the_pool_so_dropping_it_warns_of_nothing(engine: Engine) -> None:
    # An engine that is never disposed drops its writer's connection without closing it. A
    # connection still checked out of the pool would make SQLAlchemy warn, at garbage collection,
    # that it was never returned; the kept one is detached, so there is nothing to return.
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert uow.run(_TAKE_ONE, {"item_id": "room"}).rowcount == 1
    writer = writer_for(engine)
    assert writer is not None
    kept, cursor, _ = writer.take()
    assert kept is not None and cursor is not None and _checked_out(engine) == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del kept, cursor
        gc.collect()
    assert [str(warning.message) for warning in caught] == []
