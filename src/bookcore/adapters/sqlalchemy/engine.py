"""Engines configured the way bookcore's transactions need them. Nothing runs at import."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import QueuePool

from bookcore.adapters.sqlalchemy.group_commit import GroupCommit
from bookcore.adapters.sqlalchemy.turnstile import Turnstile
from bookcore.adapters.sqlalchemy.writer import SharedWriter
from bookcore.errors import InvalidInput

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Seconds a unit of work waiting for a server connection lets others take freed ones first; past
#: it, the next connection freed is handed to it (turnstile.py says why, benchmarks.md measures it).
#: Every waiter that queues behind threads which keep their connections busy waits about this
#: long, so with W waiting it costs W / SERVER_FAIR_AFTER hand-overs to sleeping threads a second;
#: 0.1 s made them most of the work at 64 clients on 5 connections (a client-bound host fell to
#: 0.73-0.78 of its best), 0.5 s kept 0.79-0.94 of it, with the p99 wait near 0.55 s.
SERVER_FAIR_AFTER = 0.5

_WRITERS: WeakKeyDictionary[Engine, SharedWriter] = WeakKeyDictionary()
_POOL_TURNS: WeakKeyDictionary[Engine, Turnstile] = WeakKeyDictionary()


def writer_for(engine: Engine) -> SharedWriter | None:
    """How units of work on ``engine`` take turns, and the connection they share (SQLite files), or None."""
    return _WRITERS.get(engine)


def turnstile_for(engine: Engine) -> Turnstile | None:
    """The turnstile units of work on ``engine`` pass before they take a connection: one turn on
    a SQLite file, one per connection the pool can open on a server; None for other engines."""
    writer = _WRITERS.get(engine)
    return _POOL_TURNS.get(engine) if writer is None else writer.turnstile


def create_engine_for(url: str, *, fair_after: float | None = None, group_commit: bool = True,
                      **options: Any) -> Engine:
    """An engine for ``url`` (SQLite, PostgreSQL, MariaDB/MySQL); ``options`` go to SQLAlchemy.

    Units of work queue for the engine's connections in the process (turnstile.py). One that has
    waited ``fair_after`` seconds gets the next connection freed, in arrival order; until then a
    freed one goes to whoever asks first. Default: ``SERVER_FAIR_AFTER`` on a server, 0 (strict
    arrival order) on SQLite.

    ``group_commit`` (SQLite files only): a transaction that finds another thread's running is
    run by that thread after its own, inside a savepoint, and they commit as one
    (group_commit.py says what each caller sees). False gives every transaction its own turn.

    SQLite: the driver is put in autocommit mode so SQLAlchemy emits BEGIN itself, and every
    transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock up front, because
    ``SELECT ... FOR UPDATE`` silently does nothing there. Servers run at READ COMMITTED: the
    conditional updates and row locks bookcore uses are correct at that level, and MariaDB's
    default REPEATABLE READ would add gap locks, and deadlocks, for nothing.
    """
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
    except ArgumentError as error:
        raise InvalidInput("not a database URL", url=_masked(url)) from error
    patience = _patience(fair_after, server=backend != "sqlite")
    if type(group_commit) is not bool:
        raise InvalidInput("group_commit must be a bool", group_commit=repr(group_commit))
    if backend == "sqlite":
        file_backed = _is_file(parsed)  # in-memory databases get a single-connection pool
        if file_backed:
            _reuse_warm_connections(options)
        engine = _create(parsed, options)
        _make_sqlite_transactional(engine, file_backed=file_backed)
        if file_backed:  # one writer at a time anyway: queue in arrival order, on one connection
            _share_one_writer(engine, patience, group=GroupCommit() if group_commit else None)
        return engine
    # No pool_pre_ping: it costs a round trip per transaction, and bookcore's retries already
    # survive a dead pooled connection (see bookcore.transactions).
    options.setdefault("isolation_level", "READ COMMITTED")
    _reuse_warm_connections(options)
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    engine = _create(parsed, options)
    _queue_for_the_pool(engine, patience)
    return engine


def _patience(fair_after: float | None, *, server: bool) -> float:
    if fair_after is None:
        return SERVER_FAIR_AFTER if server else 0.0
    if isinstance(fair_after, bool) or not isinstance(fair_after, int | float) \
            or not 0 <= fair_after < float("inf"):
        raise InvalidInput("fair_after is the seconds a waiting unit of work lets others go first: "
                           "a number, 0 or more", fair_after=repr(fair_after))
    return float(fair_after)


def _reuse_warm_connections(options: dict[str, Any]) -> None:
    """Hand out the connection used last (LIFO), not the one idle longest (SQLAlchemy's default).

    Its caches are warm: a SQLite connection keeps its page cache when it was the last writer
    (FIFO rotation meant a cold cache nearly every transaction: holds on 1,000 items over 1M
    bookings at 16 clients ran at 0.64 of raw SQL with FIFO, 0.83 with LIFO), a server session
    its plans and catalog caches; and connections left over after a burst go idle and can be
    recycled. Only for the default queue pool; an explicit ``poolclass`` is left alone.
    """
    if "poolclass" not in options and "pool" not in options:
        options.setdefault("pool_use_lifo", True)


def _create(url: URL, options: dict[str, Any]) -> Engine:
    try:
        return create_engine(url, **options)
    except ArgumentError as error:
        raise InvalidInput(f"unsupported database URL: {error}", url=_masked(url)) from error
    except ImportError as error:
        raise InvalidInput(f"the database driver is not installed ({error.name}); "
                           "install bookcore[postgres] or bookcore[mysql]",
                           url=_masked(url)) from error


def _masked(url: str | URL) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable)"


def _is_file(url: URL) -> bool:
    database = url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(url)


def _share_one_writer(engine: Engine, patience: float, group: GroupCommit | None) -> None:
    turnstile = Turnstile(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, patience=patience)
    writer = _WRITERS[engine] = SharedWriter(turnstile, group)

    @event.listens_for(engine, "engine_disposed")
    def _on_dispose(_engine: Engine) -> None:
        writer.retire()


def _queue_for_the_pool(engine: Engine, patience: float) -> None:
    """Units of work take one of as many turns as the pool has connections before they check one
    out, queueing in arrival order, served strictly so once they have waited ``patience``
    (turnstile.py says why). Only for a queue pool with a bound: one without (``pool_size=0`` or
    ``max_overflow=-1``) never makes anyone wait."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return
    # SQLAlchemy keeps the overflow bound and the checkout timeout as its queue pool's own fields.
    overflow, timeout = getattr(pool, "_max_overflow", None), getattr(pool, "_timeout", None)
    if not isinstance(overflow, int) or overflow < 0 or pool.size() <= 0 \
            or not isinstance(timeout, int | float):
        return
    _POOL_TURNS[engine] = Turnstile(timeout=float(timeout), permits=pool.size() + overflow,
                                    patience=patience)


def _make_sqlite_transactional(engine: Engine, *, file_backed: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy, not pysqlite, issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if file_backed:
            cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the one writer
        cursor.close()

    # Every transaction starts with BEGIN IMMEDIATE, issued where Core issues its own BEGIN: inside
    # Core's error handling, so "database is locked" at BEGIN is wrapped and translated like any
    # statement's error. (SQLAlchemy's "begin" event recipe runs it as a full statement execution
    # outside that handling: it was a third of an empty transaction's cost.)
    engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]
    # COMMIT as a statement, too: pysqlite's commit() compiles a fresh "COMMIT" every time, while
    # execute() reuses the connection's cached statement (8 µs of a 200 µs hold, measured).
    engine.dialect.do_commit = _commit  # type: ignore[method-assign]


def _begin_immediate(dbapi_connection: Any) -> None:
    # The pooled connection's own sqlite3 connection (``driver_connection`` is None once the
    # connection is detached from its pool, as the shared writer's is; for pysqlite they are one).
    connection = dbapi_connection.dbapi_connection
    # Already open when the unit of work began it and a Core connection joins it (unit_of_work.py).
    if not connection.in_transaction:
        connection.execute("BEGIN IMMEDIATE")


def _commit(dbapi_connection: Any) -> None:
    connection = dbapi_connection.dbapi_connection
    if connection.in_transaction:  # as pysqlite's commit(): nothing to do outside a transaction
        connection.execute("COMMIT")
