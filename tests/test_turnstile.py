"""The turnstile: units of work take turns per engine, handed over in arrival order; one turn on a
SQLite file, one per pool connection on a server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from bookcore.adapters.sqlalchemy.engine import turnstile_for
from bookcore.adapters.sqlalchemy.turnstile import Turnstile, _Waiter
from bookcore.errors import InvalidInput, StorageError, TransientConflict
from tests.backends import fresh_engine


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for a state another thread reaches (not a race to win: the state is checked)."""
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.001)


def _queue_in_order(turnstile: Turnstile, names: str,
                    visitor: Callable[[str], None]) -> list[threading.Thread]:
    """Start a thread per name, each only once the one before it is queued."""
    threads = []
    for position, name in enumerate(names, start=1):
        thread = threading.Thread(target=visitor, args=(name,))
        thread.start()
        threads.append(thread)
        _until(lambda position=position: turnstile.waiting == position, f"{name} queues")  # type: ignore[misc]
    return threads


def _taking_turns(turnstile: Turnstile, order: list[str]) -> Callable[[str], None]:
    """A visitor that takes a turn, notes its name and gives the turn back."""
    def visitor(name: str) -> None:
        assert turnstile.enter()
        order.append(name)
        turnstile.leave()

    return visitor


def test_turns_are_handed_over_in_arrival_order() -> None:
    turnstile, order = Turnstile(timeout=10), list[str]()
    assert turnstile.enter()
    threads = _queue_in_order(turnstile, "abcde", _taking_turns(turnstile, order))
    turnstile.leave()
    for thread in threads:
        thread.join()
    assert order == list("abcde")
    assert turnstile.waiting == 0 and turnstile.enter()  # free again once everyone has left


def test_the_one_who_leaves_queues_behind_the_waiters() -> None:
    # The bug a plain lock has: the thread that just left takes the next turn before a woken waiter.
    turnstile, order = Turnstile(timeout=10), []
    assert turnstile.enter()
    def visitor() -> None:
        assert turnstile.enter()
        order.append("waiter")
        turnstile.leave()

    waiter = threading.Thread(target=visitor)
    waiter.start()
    _until(lambda: turnstile.waiting == 1, "the waiter queues")
    turnstile.leave()
    assert turnstile.enter()  # returns only once the waiter has had its turn
    order.append("again")
    turnstile.leave()
    waiter.join()
    assert order == ["waiter", "again"]


def test_a_wait_past_the_timeout_gives_up_holding_nothing() -> None:
    turnstile = Turnstile(timeout=0.05)
    assert turnstile.enter()
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(turnstile.enter()))
    thread.start()
    thread.join()
    assert results == [False] and turnstile.waiting == 0
    turnstile.leave()
    assert turnstile.enter()  # nobody holds it after the one who gave up


def test_sqlite_units_of_work_take_turns_and_a_stuck_turn_is_a_transient_conflict(tmp_path: Path) -> None:
    engine = fresh_engine("sqlite", tmp_path)
    turnstile = turnstile_for(engine)
    assert turnstile is not None
    turnstile.timeout = 0.05
    first, second = SqlAlchemyUnitOfWork(engine), SqlAlchemyUnitOfWork(engine)
    with first:
        with pytest.raises(TransientConflict):
            second.__enter__()
        assert turnstile.waiting == 0
    with second:  # the turn came back when the first block ended
        assert second.inventory.list() == []
    with first:
        pass


def test_a_failed_checkout_gives_the_turn_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = fresh_engine("sqlite", tmp_path)
    turnstile = turnstile_for(engine)
    assert turnstile is not None
    turnstile.timeout = 0.05  # a leaked turn would fail the last block fast
    uow = SqlAlchemyUnitOfWork(engine)

    def refuse() -> None:
        raise RuntimeError("no connection")

    monkeypatch.setattr(engine, "raw_connection", refuse)
    with pytest.raises(RuntimeError):
        uow.__enter__()
    monkeypatch.undo()
    with uow:
        assert uow.inventory.list() == []


def test_turns_are_shared_by_as_many_holders_as_there_are_permits() -> None:
    turnstile, order, inside, most = Turnstile(timeout=10, permits=2), [], [0], [0]
    count = threading.Lock()
    assert turnstile.enter() and turnstile.enter()  # both turns taken, at once

    def visitor(name: str) -> None:
        assert turnstile.enter()
        with count:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        order.append(name)
        with count:
            inside[0] -= 1
        turnstile.leave()

    threads = _queue_in_order(turnstile, "abcd", visitor)
    turnstile.leave()  # one turn goes round the queue; this thread keeps the other
    for thread in threads:
        thread.join()
    assert order == list("abcd") and most[0] == 1
    assert turnstile.enter()  # the freed turn is free again
    turnstile.timeout = 0.05
    assert not turnstile.enter()  # and no third: both are held
    assert turnstile.waiting == 0


def test_a_turnstile_has_at_least_one_turn() -> None:
    with pytest.raises(ValueError):
        Turnstile(timeout=1, permits=0)
    with pytest.raises(ValueError):
        Turnstile(timeout=1, patience=-0.1)


class _Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_within_its_patience_a_waiter_lets_the_thread_that_just_left_go_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    turnstile, order = Turnstile(timeout=10, patience=5, clock=clock), list[str]()
    assert turnstile.enter()
    # The waiter's bell rings, but it stays asleep until the test wakes it: no race to win.
    rung: list[_Waiter] = []
    monkeypatch.setattr(_Waiter, "ring", lambda waiter: rung.append(waiter))
    [waiter] = _queue_in_order(turnstile, "w", _taking_turns(turnstile, order))
    clock.now += 4.9  # the waiter's patience is not over
    turnstile.leave()
    assert len(rung) == 1 and not rung[0].handed  # woken to take it, not handed it
    assert turnstile.enter()  # the free turn goes to whoever asks first: this thread
    order.append("again")
    clock.now += 0.1  # now it is over: the next freed turn is the waiter's
    turnstile.leave()
    assert rung[-1] is rung[0] and rung[0].handed and turnstile.waiting == 0
    monkeypatch.undo()
    rung[0].ring()
    waiter.join()
    assert order == ["again", "w"]
    assert turnstile.enter()  # the waiter gave it back


def test_a_turn_freed_while_a_woken_waiter_is_still_asleep_is_not_lost(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    turnstile, order = Turnstile(timeout=10, permits=2, patience=5, clock=clock), list[str]()
    assert turnstile.enter() and turnstile.enter()
    together, failures = threading.Barrier(2, timeout=5), list[BaseException]()

    def visitor(name: str) -> None:  # holds its turn until the other waiter holds one too
        assert turnstile.enter()
        order.append(name)
        try:
            together.wait()
        except threading.BrokenBarrierError as error:
            failures.append(error)
        turnstile.leave()

    rung: list[_Waiter] = []
    monkeypatch.setattr(_Waiter, "ring", lambda waiter: rung.append(waiter))
    threads = _queue_in_order(turnstile, "ab", visitor)
    clock.now += 1
    turnstile.leave()  # within a's patience: freed, and a woken to take it (asleep till we say)
    clock.now += 5
    turnstile.leave()  # past both waiters' patience, with a already woken for the free turn
    monkeypatch.undo()
    rung[0].ring()
    for thread in threads:
        thread.join()
    assert not failures, "the second freed turn stayed free while b slept"
    assert sorted(order) == ["a", "b"] and turnstile.waiting == 0


def test_a_woken_waiter_takes_a_freed_turn_nobody_else_asks_for() -> None:
    clock = _Clock()
    turnstile, order = Turnstile(timeout=10, patience=5, clock=clock), list[str]()
    assert turnstile.enter()
    [waiter] = _queue_in_order(turnstile, "w", _taking_turns(turnstile, order))
    turnstile.leave()  # within its patience: freed, and the waiter woken to take it
    waiter.join()
    assert order == ["w"] and turnstile.waiting == 0
    assert turnstile.enter()


def test_past_their_patience_waiters_are_served_in_arrival_order() -> None:
    clock = _Clock()
    turnstile, order = Turnstile(timeout=10, patience=5, clock=clock), list[str]()
    assert turnstile.enter()
    threads = _queue_in_order(turnstile, "abc", _taking_turns(turnstile, order))
    clock.now += 5
    turnstile.leave()
    assert turnstile.enter()  # returns only once all three, past their patience, have had theirs
    for thread in threads:
        thread.join()
    assert order == list("abc")


def test_a_server_engine_has_a_turn_per_connection_its_pool_can_open() -> None:
    from sqlalchemy.pool import NullPool

    from bookcore.adapters.sqlalchemy import create_engine_for

    url = "postgresql+psycopg://u@127.0.0.1:1/x"  # nothing connects until a unit of work runs
    sized = turnstile_for(create_engine_for(url, pool_size=3, max_overflow=2, pool_timeout=7))
    assert sized is not None and (sized.permits, sized.timeout) == (5, 7.0)
    default = turnstile_for(create_engine_for(url))
    assert default is not None and (default.permits, default.timeout) == (15, 30.0)  # SQLAlchemy's 5 + 10
    assert turnstile_for(create_engine_for(url, max_overflow=-1)) is None  # never waits for a connection
    assert turnstile_for(create_engine_for(url, pool_size=0, max_overflow=0)) is None  # 0: no size limit
    assert turnstile_for(create_engine_for(url, poolclass=NullPool)) is None
    assert turnstile_for(create_engine_for("mysql+pymysql://u@127.0.0.1:1/x", pool_size=2,
                                           max_overflow=0)).permits == 2  # type: ignore[union-attr]


def test_server_turns_are_first_come_first_served_after_fair_after_sqlite_turns_always(
        tmp_path: Path) -> None:
    from bookcore.adapters.sqlalchemy import create_engine_for
    from bookcore.adapters.sqlalchemy.engine import SERVER_FAIR_AFTER

    url = "postgresql+psycopg://u@127.0.0.1:1/x"
    assert turnstile_for(create_engine_for(url)).patience == SERVER_FAIR_AFTER  # type: ignore[union-attr]
    assert turnstile_for(create_engine_for(url, fair_after=0)).patience == 0  # type: ignore[union-attr]
    assert turnstile_for(create_engine_for(url, fair_after=2)).patience == 2.0  # type: ignore[union-attr]
    sqlite = f"sqlite:///{tmp_path / 'fair.db'}"
    assert turnstile_for(create_engine_for(sqlite)).patience == 0  # type: ignore[union-attr]
    assert turnstile_for(create_engine_for(sqlite, fair_after=0.5)).patience == 0.5  # type: ignore[union-attr]
    for wrong in (-1, True, "0.1", float("nan"), float("inf"), Decimal("0.1")):
        with pytest.raises(InvalidInput):
            create_engine_for(url, fair_after=wrong)  # type: ignore[arg-type]


def test_memory_databases_and_foreign_engines_have_no_turnstile() -> None:
    from sqlalchemy import create_engine

    from bookcore.adapters.sqlalchemy import create_engine_for

    assert turnstile_for(create_engine_for("sqlite://")) is None
    assert turnstile_for(create_engine("postgresql+psycopg://u@127.0.0.1:1/x")) is None


@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_a_server_unit_of_work_waits_for_a_turn_before_it_asks_the_pool(kind: str, tmp_path: Path) -> None:
    from sqlalchemy.pool import QueuePool

    from bookcore.adapters.sqlalchemy import create_engine_for
    from tests.backends import server_url

    fresh_engine(kind, tmp_path)  # migrated and empty
    engine = create_engine_for(server_url(kind), pool_size=1, max_overflow=0, pool_timeout=0.05)
    pool, turnstile = engine.pool, turnstile_for(engine)
    assert isinstance(pool, QueuePool)
    assert turnstile is not None and turnstile.permits == 1
    first, second = SqlAlchemyUnitOfWork(engine), SqlAlchemyUnitOfWork(engine)
    try:
        with first:
            with pytest.raises(StorageError) as refused:
                second.__enter__()
            assert "for a turn" in str(refused.value.details)  # refused by the turnstile, not the pool
            assert turnstile.waiting == 0 and pool.checkedout() == 1  # it took nothing
        with second:  # the turn came back with the connection
            assert second.inventory.list() == []
        assert pool.checkedout() == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_more_threads_than_connections_all_get_their_turn(kind: str, tmp_path: Path) -> None:
    from bookcore import InventoryItem, SystemClock, place_hold
    from bookcore.adapters.sqlalchemy import create_engine_for
    from tests.backends import server_url

    fresh_engine(kind, tmp_path)
    engine = create_engine_for(server_url(kind), pool_size=2, max_overflow=0)
    try:
        setup = SqlAlchemyUnitOfWork(engine)
        with setup:
            setup.inventory.add(InventoryItem(id="room", name="Room", capacity=1000, available=1000,
                                              unit_price=Decimal("10.00"), currency="INR"))
            setup.commit()
        failures: list[BaseException] = []

        def customer(index: int) -> None:
            uow = SqlAlchemyUnitOfWork(engine)
            try:
                for _ in range(5):
                    place_hold(uow, item_id="room", customer_id=f"c{index}", quantity=1, clock=SystemClock())
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=customer, args=(index,)) for index in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        with setup:
            item = setup.inventory.get("room")
        assert item is not None and item.available == 1000 - 12 * 5
        turnstile = turnstile_for(engine)
        assert turnstile is not None and turnstile.waiting == 0 and turnstile.enter() and turnstile.enter()
    finally:
        engine.dispose()
