"""The storage path's hard constraints: every statement is visible to SQLAlchemy, no private API of
a dependency is used, a service runs on its caller's thread and context, no process-global
registries, and the pool is SQLAlchemy's own, configured through ``create_engine`` options."""

from __future__ import annotations

import ast
import contextvars
import importlib.util
import logging
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

import bookcore
from bookcore import InvalidInput, SqlAlchemyUnitOfWork, create_engine_for, expire_holds, migrate
from bookcore.clock import ManualClock
from tests.backends import fresh_engine
from tests.conftest import START
from tests.world import World

SOURCE = Path(bookcore.__file__).parent
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def _a_day_of_business(world: World) -> None:
    """Every service that writes: hold, pay (wallet + gateway), cancel, expire."""
    world.item(capacity=4)
    world.fund("alice", "300.00")
    paid = world.hold("alice")
    world.pay(paid)
    world.cancel(paid, by="alice")
    world.hold("bob")
    world.clock.advance(timedelta(minutes=11))
    expire_holds(world.uow, clock=world.clock)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'bookcore.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def test_every_statement_the_database_runs_is_seen_by_the_engine_events(sqlite_engine: Engine) -> None:
    """SQLite's own trace callback sees every statement the database runs; the engine's
    ``before_cursor_execute`` must have seen each of them (transaction control aside, which
    SQLAlchemy reports through its ``begin``/``commit``/``rollback`` events)."""
    seen_by_events: list[str] = []
    run_by_sqlite: list[str] = []

    @event.listens_for(sqlite_engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen_by_events.append(statement)

    @event.listens_for(sqlite_engine, "connect")
    def _trace(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.set_trace_callback(run_by_sqlite.append)

    sqlite_engine.dispose()  # new connections, so each one is traced from its start
    _a_day_of_business(World(SqlAlchemyUnitOfWork(sqlite_engine), ManualClock(START)))
    transaction_control = ("COMMIT", "ROLLBACK", "PRAGMA")
    traced = [sql for sql in run_by_sqlite if not sql.startswith(transaction_control)]
    normalized = {" ".join(statement.split()) for statement in seen_by_events}
    assert len(traced) > 20
    # sqlite3 traces statements with their parameters expanded; match on the text before them.
    unseen = [sql for sql in traced
              if not any(" ".join(sql.split()).startswith(text.split("?")[0].strip())
                         for text in normalized)]
    assert unseen == []
    for fragment in ("UPDATE bookcore_inventory_items", "INSERT INTO bookcore_bookings",
                     "INSERT INTO bookcore_payments", "UPDATE bookcore_wallet_accounts",
                     "INSERT INTO bookcore_wallet_entries", "UPDATE bookcore_bookings",
                     "INSERT INTO bookcore_refunds", "INSERT INTO bookcore_events", "BEGIN IMMEDIATE"):
        assert any(statement.startswith(fragment) for statement in normalized), fragment


def test_echo_logs_the_statements_where_money_moves(tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'echo.db'}", echo=True)
    migrate(engine)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine.Engine")
    _a_day_of_business(World(SqlAlchemyUnitOfWork(engine), ManualClock(START)))
    logged = caplog.text
    for fragment in ("UPDATE bookcore_inventory_items", "INSERT INTO bookcore_payments",
                     "UPDATE bookcore_wallet_accounts"):
        assert fragment in logged


def test_a_service_runs_on_its_callers_thread_in_its_callers_context(sqlite_engine: Engine) -> None:
    where: list[tuple[int, str]] = []

    @event.listens_for(sqlite_engine, "before_cursor_execute")
    def _record(*_args: Any) -> None:
        where.append((threading.get_ident(), REQUEST_ID.get()))

    World(SqlAlchemyUnitOfWork(sqlite_engine), ManualClock(START)).item("room", capacity=100)
    where.clear()
    errors: list[BaseException] = []

    def request(name: str) -> None:
        REQUEST_ID.set(name)
        world = World(SqlAlchemyUnitOfWork(sqlite_engine), ManualClock(START))
        try:
            for _ in range(20):
                world.hold(name, item_id="room")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = {name: threading.Thread(target=request, args=(name,)) for name in ("a", "b", "c", "d")}
    for thread in threads.values():
        thread.start()
    for thread in threads.values():
        thread.join()
    assert errors == []
    idents = {thread.ident: name for name, thread in threads.items()}
    assert len(where) >= 4 * 20 * 3
    assert all(idents.get(ident) == request_id for ident, request_id in where)


def test_the_pool_is_sqlalchemys_own_configured_by_create_engine_options(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=3, max_overflow=2,
                               pool_timeout=7)
    assert type(engine.pool) is QueuePool
    assert engine.pool.size() == 3
    assert "max_overflow=2" in engine.pool.status() or engine.pool.overflow() <= 0


def _source_files() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def test_no_private_attribute_of_another_object_is_touched() -> None:
    """``x._name`` only where ``x`` is ``self``/``cls`` (bookcore's own objects), never a
    dependency's internals; and no writes through descriptors or ``__dict__``."""
    found = []
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                    and not node.attr.startswith("__"):
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                    found.append(f"{path.relative_to(SOURCE)}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.Attribute) and node.attr in ("__set__", "__dict__"):
                found.append(f"{path.relative_to(SOURCE)}:{node.lineno} .{node.attr}")
    assert found == []


_MUTABLE_FACTORIES = {"dict", "list", "set", "WeakKeyDictionary", "WeakValueDictionary",
                      "defaultdict", "OrderedDict", "Counter", "deque"}


def test_no_module_keeps_a_process_global_mutable_registry() -> None:
    found = []
    for path in _source_files():
        for node in ast.parse(path.read_text(), str(path)).body:
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            empty_literal = isinstance(value, ast.Dict | ast.List | ast.Set) and not (
                value.keys if isinstance(value, ast.Dict) else value.elts)
            factory = isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
                and value.func.id in _MUTABLE_FACTORIES
            if empty_literal or factory:
                found.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    assert found == []


def test_amounts_stay_decimal_through_the_storage_path(sqlite_engine: Engine) -> None:
    world = World(SqlAlchemyUnitOfWork(sqlite_engine), ManualClock(START))
    world.item(price="1234.56")
    world.fund("alice", "0.10")
    booking = world.hold("alice")
    assert booking.pricing.total_amount == Decimal("1234.56")
    assert world.balance("alice") == Decimal("0.10")


def test_a_cockroachdb_url_without_its_extra_names_the_extra() -> None:
    if importlib.util.find_spec("sqlalchemy_cockroachdb") is None:
        with pytest.raises(InvalidInput, match=r"bookcore\[cockroachdb\]"):
            create_engine_for("cockroachdb://root@127.0.0.1:26257/bookcore")
    else:  # with the extra: its dialect over psycopg 3, at SERIALIZABLE
        engine = create_engine_for("cockroachdb://root@127.0.0.1:26257/bookcore")
        assert (engine.dialect.name, engine.dialect.driver) == ("cockroachdb", "psycopg")
        assert engine.get_execution_options().get("isolation_level", "SERIALIZABLE") == "SERIALIZABLE"


@pytest.mark.postgres
def test_the_serializable_mode_retries_serialization_failures_until_every_hold_lands(
        tmp_path: Path) -> None:
    """Sixteen threads holding one item at SERIALIZABLE: the database aborts many of them with
    SQLSTATE 40001, bookcore runs them again, and no caller sees it."""
    base = fresh_engine("postgres", tmp_path)
    engine = create_engine_for(base.url.render_as_string(hide_password=False),
                               isolation_level="SERIALIZABLE", pool_size=16, max_overflow=0)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW transaction_isolation").scalar_one() == "serializable"
    World(SqlAlchemyUnitOfWork(engine), ManualClock(START)).item("room", capacity=64)
    start, failures = threading.Barrier(16), list[BaseException]()

    def client(n: int) -> None:
        world = World(SqlAlchemyUnitOfWork(engine), ManualClock(START))
        start.wait()
        try:
            for _ in range(4):
                world.hold(f"c{n}", item_id="room")
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert World(SqlAlchemyUnitOfWork(engine), ManualClock(START)).available("room") == 0
    engine.dispose()
