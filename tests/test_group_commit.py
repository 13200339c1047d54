"""Group commit on a SQLite file: transactions that find another thread's running are run by that
thread after its own, each in a savepoint, and commit as one. Each caller sees what it would see
alone: its result once committed, its own refusal, and a second try alone when anything else fails.

Each test holds the leader inside its work until the other callers are queued (checked, not raced),
so which works share a group is known."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bookcore import create_engine_for
from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from bookcore.adapters.sqlalchemy.engine import writer_for
from bookcore.adapters.sqlalchemy.group_commit import GroupCommit
from bookcore.catalog import add_inventory_item
from bookcore.clock import ManualClock
from bookcore.errors import InsufficientInventory, InvalidInput, StorageError
from bookcore.holds import place_hold
from bookcore.logs import Event, event
from bookcore.ports import UnitOfWork
from bookcore.transactions import in_transaction
from tests.backends import fresh_engine
from tests.conftest import START
from tests.test_turnstile import _until

ITEM = "room-101"
CAPACITY = 20
Work = Callable[[UnitOfWork, list[Event]], Any]


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = fresh_engine("sqlite", tmp_path)
    add_inventory_item(SqlAlchemyUnitOfWork(engine), item_id=ITEM, name=ITEM, capacity=CAPACITY,
                       unit_price=Decimal("100.00"), currency="INR")
    return engine


def _group(engine: Engine) -> GroupCommit:
    writer = writer_for(engine)
    assert writer is not None and writer.group is not None
    return writer.group


def _available(engine: Engine) -> int:
    with SqlAlchemyUnitOfWork(engine) as uow:
        item = uow.inventory.get(ITEM)
        assert item is not None
        return item.available


def _take(units: int = 1, then: Callable[[UnitOfWork], Any] | None = None) -> Work:
    """A work that takes ``units`` of the item, then does ``then`` (which may refuse or fail)."""
    def work(uow: UnitOfWork, events: list[Event]) -> str:
        assert uow.inventory.take(ITEM, units)
        events.append(event("BOOKING_HELD", units=units))
        if then is not None:
            then(uow)
        return threading.current_thread().name

    return work


class _Callers:
    """Callers each on its own thread, with its own unit of work; what each returned or raised,
    by name."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.threads = engine, list[threading.Thread]()
        self.results: dict[str, Any] = {}

    def start(self, name: str, work: Work | None = None, call: Callable[[], Any] | None = None) -> None:
        """Run ``work`` through ``in_transaction``, or else ``call``."""
        def caller() -> None:
            try:
                self.results[name] = (call() if work is None  # type: ignore[misc]
                                      else in_transaction(SqlAlchemyUnitOfWork(self.engine), work))
            except Exception as error:
                self.results[name] = error

        thread = threading.Thread(target=caller, name=name)
        self.threads.append(thread)
        thread.start()

    def join(self) -> dict[str, Any]:
        for thread in self.threads:
            thread.join(timeout=30)
            assert not thread.is_alive(), f"{thread.name} never returned"
        return self.results


Queue = Callable[..., None]


@contextmanager
def _leading(engine: Engine, callers: _Callers,
             then: Callable[[UnitOfWork], Any] | None = None) -> Iterator[Queue]:
    """A leader holds its group open inside its work (taking 1 unit, then doing ``then``); the
    block queues callers behind it in order (``queue(name, work=..., call=...)`` returns once
    that caller waits); leaving the block lets the leader go on."""
    group, gate, inside = _group(engine), threading.Event(), threading.Event()

    def lead(uow: UnitOfWork) -> None:
        inside.set()
        assert gate.wait(30)
        if then is not None:
            then(uow)

    callers.start("leader", _take(then=lead))
    assert inside.wait(30)

    def queue(name: str, work: Work | None = None, call: Callable[[], Any] | None = None) -> None:
        queued = group.waiting
        callers.start(name, work, call)
        _until(lambda: group.waiting == queued + 1, f"{name} queues")

    try:
        yield queue
    finally:
        gate.set()


def _counting_commits(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                      fail: Callable[[int], BaseException | None] = lambda _n: None) -> list[int]:
    """COMMITs the engine issues (``fail(n)`` may make the n-th raise instead), as a one-item list."""
    commits, real = [0], engine.dialect.do_commit

    def do_commit(connection: Any) -> None:
        commits[0] += 1
        error = fail(commits[0])
        if error is not None:
            raise error
        real(connection)

    monkeypatch.setattr(engine.dialect, "do_commit", do_commit)
    return commits


def test_callers_queued_behind_a_running_transaction_commit_with_it_once(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bookcore")
    commits, callers = _counting_commits(engine, monkeypatch), _Callers(engine)
    with _leading(engine, callers) as queue:
        for name in ("a", "b", "c"):
            queue(name, _take())
    results = callers.join()
    assert commits == [1]
    assert _available(engine) == CAPACITY - 4
    # Every work ran on the leader's thread, in arrival order; each caller got its own result...
    assert results == {"leader": "leader", "a": "leader", "b": "leader", "c": "leader"}
    # ...and logged its own events from its own thread, once committed.
    held = [str(record.threadName) for record in caplog.records if "BOOKING_HELD" in record.getMessage()]
    assert sorted(held) == ["a", "b", "c", "leader"]


@pytest.mark.parametrize(("failure", "others", "commits"), [
    # A refusal rolls back only its own savepoint and is raised to its caller; the rest commit.
    (InvalidInput("refused after taking capacity"), ("leader", "leader", "leader"), 1),
    # Anything else rolls the group back: the others run again alone, each on its own thread,
    # and commit once; the failing work fails again, alone.
    (RuntimeError("a bug in one caller's work"), ("leader", "a", "b"), 3),
], ids=["refusal", "bug"])
def test_a_work_that_fails_in_a_group_is_the_only_one_that_fails(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, failure: Exception,
        others: tuple[str, str, str], commits: int) -> None:
    counted, callers = _counting_commits(engine, monkeypatch), _Callers(engine)

    def fail(_uow: UnitOfWork) -> None:
        raise failure

    with _leading(engine, callers) as queue:
        queue("a", _take(units=2))
        queue("failing", _take(units=5, then=fail))
        queue("b", _take(units=3))
    results = callers.join()
    assert results["failing"] is failure
    assert (results["leader"], results["a"], results["b"]) == others
    assert counted == [commits]
    assert _available(engine) == CAPACITY - 1 - 2 - 3  # the failing work's 5 units are not taken


def test_a_service_refusal_in_a_group_leaves_the_others_committed(engine: Engine) -> None:
    callers, clock = _Callers(engine), ManualClock(START)

    def hold(name: str, quantity: int) -> Callable[[], int]:
        return lambda: place_hold(SqlAlchemyUnitOfWork(engine), item_id=ITEM, customer_id=name,
                                  quantity=quantity, clock=clock).booking.quantity

    with _leading(engine, callers) as queue:
        for name, quantity in (("small", 2), ("too-big", CAPACITY), ("also-small", 3)):
            queue(name, call=hold(name, quantity))
    results = callers.join()
    assert isinstance(results["too-big"], InsufficientInventory)
    assert (results["small"], results["also-small"]) == (2, 3)
    assert _available(engine) == CAPACITY - 1 - 2 - 3


def test_a_leader_refused_alone_hands_the_queued_callers_to_the_next_group(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    commits, callers = _counting_commits(engine, monkeypatch), _Callers(engine)

    def refuse(_uow: UnitOfWork) -> None:
        raise InvalidInput("the leader's own refusal")

    with _leading(engine, callers, then=refuse) as queue:
        queue("a", _take(units=2))
        queue("b", _take(units=3))
    results = callers.join()
    assert isinstance(results["leader"], InvalidInput)
    assert (results["a"], results["b"]) == ("a", "a")  # the oldest queued led the next group
    assert commits == [1]
    assert _available(engine) == CAPACITY - 2 - 3


def test_a_work_that_commits_by_itself_runs_alone(engine: Engine) -> None:
    callers = _Callers(engine)

    def commit_early(uow: UnitOfWork) -> None:
        uow.commit()

    with _leading(engine, callers) as queue:
        queue("early", _take(units=2, then=commit_early))
        queue("b", _take(units=3))
    results = callers.join()
    assert results == {"leader": "leader", "early": "early", "b": "b"}
    assert _available(engine) == CAPACITY - 1 - 2 - 3


def _group_whose_first_commit_fails(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                    error: Exception, units: dict[str, int]
                                    ) -> tuple[dict[str, Any], list[int]]:
    """A leader and callers taking ``units`` each in one group, whose COMMIT raises ``error``;
    what each caller got, and the COMMITs issued."""
    commits = _counting_commits(engine, monkeypatch, fail=lambda n: error if n == 1 else None)
    callers = _Callers(engine)
    with _leading(engine, callers) as queue:
        for name, taken in units.items():
            queue(name, _take(units=taken))
    return callers.join(), commits


def test_a_commit_aborted_by_the_database_sends_everyone_to_run_again_alone(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    results, commits = _group_whose_first_commit_fails(
        engine, monkeypatch, sqlite3.OperationalError("database is locked"), {"a": 2, "b": 3})
    assert results == {"leader": "leader", "a": "a", "b": "b"}
    assert commits == [4]  # the group's, aborted, then one each
    assert _available(engine) == CAPACITY - 1 - 2 - 3


def test_a_commit_that_fails_otherwise_is_raised_to_every_caller(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    results, commits = _group_whose_first_commit_fails(
        engine, monkeypatch, sqlite3.OperationalError("disk I/O error"), {"a": 2})
    assert all(isinstance(result, StorageError) for result in results.values()), results
    assert commits == [1]  # nobody ran again: whether a failed COMMIT stuck is not known
    assert _available(engine) == CAPACITY


def test_at_most_the_limit_share_a_commit_and_the_oldest_queued_leads_the_next(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    commits, callers = _counting_commits(engine, monkeypatch), _Callers(engine)
    monkeypatch.setattr(_group(engine), "limit", 2)
    with _leading(engine, callers) as queue:
        for name in ("a", "b", "c"):
            queue(name, _take())
    results = callers.join()
    assert commits == [2]
    assert results == {"leader": "leader", "a": "leader", "b": "b", "c": "b"}
    assert _available(engine) == CAPACITY - 4


def test_a_work_that_runs_another_transaction_does_not_wait_for_its_own_group() -> None:
    group, seen = GroupCommit(), []

    class Leader:
        def __enter__(self) -> Leader:
            return self

        def __exit__(self, *_exc: object) -> None:
            pass

        def commit(self) -> None:
            pass

        def grouping(self, on: bool) -> None:
            pass

        def savepoint(self) -> None:
            pass

        def release_savepoint(self) -> None:
            pass

        def rollback_to_savepoint(self) -> None:
            pass

    def outer(uow: Leader, _events: list[Event]) -> str:
        seen.append(group.run(uow, lambda _uow, _events: "inner"))
        return "outer"

    assert group.run(Leader(), outer) == ("outer", [])
    assert seen == [None]  # told to run alone, not queued behind itself


def test_group_commit_can_be_turned_off_and_must_be_a_bool(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'solo.db'}"
    writer = writer_for(create_engine_for(url, group_commit=False))
    assert writer is not None and writer.group is None
    assert SqlAlchemyUnitOfWork(create_engine_for(url, group_commit=False)).in_group(
        _take()) is None
    with pytest.raises(InvalidInput):
        create_engine_for(url, group_commit="yes")  # type: ignore[arg-type]
