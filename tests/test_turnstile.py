"""The SQLite turnstile: one unit of work at a time per engine, handed over in arrival order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from bookcore.adapters.sqlalchemy.engine import turnstile_for
from bookcore.adapters.sqlalchemy.turnstile import Turnstile
from bookcore.errors import TransientConflict
from tests.backends import fresh_engine


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for a state another thread reaches (not a race to win: the state is checked)."""
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.001)


def test_turns_are_handed_over_in_arrival_order() -> None:
    turnstile, order = Turnstile(timeout=10), []
    assert turnstile.enter()

    def visitor(name: str) -> None:
        assert turnstile.enter()
        order.append(name)
        turnstile.leave()

    threads = []
    for position, name in enumerate("abcde", start=1):
        thread = threading.Thread(target=visitor, args=(name,))
        thread.start()
        threads.append(thread)
        _until(lambda position=position: turnstile.waiting == position, f"{name} queues")  # type: ignore[misc]
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


def test_servers_and_memory_databases_have_no_turnstile() -> None:
    from bookcore.adapters.sqlalchemy import create_engine_for

    assert turnstile_for(create_engine_for("sqlite://")) is None
    assert turnstile_for(create_engine_for("postgresql+psycopg://u@127.0.0.1:1/x")) is None
