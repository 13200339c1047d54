"""Engines configured the way bookcore's transactions need them. Nothing runs at import."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from bookcore.adapters.sqlalchemy.drivers import SHIPPED, driver_hint
from bookcore.errors import InvalidInput
from bookcore.values import check_text

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine_for(url: str | URL, **options: Any) -> Engine:
    """An engine for ``url`` (SQLite, PostgreSQL, MariaDB/MySQL, CockroachDB); ``options`` go to
    SQLAlchemy's ``create_engine`` unchanged (``pool_size``, ``max_overflow``, ``echo``,
    ``isolation_level``…).

    SQLite: every transaction starts with ``BEGIN IMMEDIATE``, taking the write lock up front,
    because ``SELECT ... FOR UPDATE`` does nothing there; a file database runs in WAL mode so
    readers never block the writer. Servers run at READ COMMITTED unless ``isolation_level`` says
    otherwise: the conditional updates and row locks bookcore uses are correct at that level, and
    MariaDB's default REPEATABLE READ would add gap locks, and deadlocks, for nothing.
    ``isolation_level="SERIALIZABLE"`` is the SERIALIZABLE mode (docs/scaling.md): every service
    runs again when the database aborts it with a serialization failure (SQLSTATE 40001).
    ``cockroachdb://`` URLs (the ``bookcore[cockroachdb]`` extra) run at SERIALIZABLE by default.
    """
    if not isinstance(url, URL):
        check_text(url, field="url")
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
    except ArgumentError as error:
        raise InvalidInput("not a database URL", field="url", url=_masked(url)) from error
    if backend == "sqlite":
        engine = _create(parsed, options)
        _make_sqlite_transactional(engine, file_backed=_is_file(parsed))
        return engine
    if backend == "cockroachdb":
        if parsed.drivername == "cockroachdb":  # the dialect defaults to psycopg2; bookcore ships psycopg 3
            parsed = parsed.set(drivername="cockroachdb+psycopg")
        options.setdefault("isolation_level", "SERIALIZABLE")  # the only level it runs at by default
    options.setdefault("isolation_level", "READ COMMITTED")
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return _create(parsed, options)


def check_engine(engine: object) -> Engine:
    """What bookcore is handed as an engine must be one (``create_engine_for`` makes them)."""
    if not isinstance(engine, Engine):
        raise InvalidInput("engine must be a SQLAlchemy Engine (see create_engine_for)",
                           field="engine", value=type(engine).__name__)
    return engine


def _create(url: URL, options: dict[str, Any]) -> Engine:
    try:
        return create_engine(url, **options)
    except NoSuchModuleError as error:  # a dialect that is a plugin of its own (cockroachdb)
        shipped = SHIPPED.get(url.get_backend_name())
        install = f"; pip install 'bookcore[{shipped.extra}]'" if shipped else ""
        raise InvalidInput(f"no SQLAlchemy dialect for this URL is installed{install}", field="url",
                           url=_masked(url)) from error
    except ArgumentError as error:
        raise InvalidInput(f"unsupported database URL: {error}", field="url", url=_masked(url)) from error
    except ImportError as error:
        raise InvalidInput(driver_hint(url), field="url", url=_masked(url)) from error


def _masked(url: str | URL) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable)"


def _is_file(url: URL) -> bool:
    database = url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(url)


def _make_sqlite_transactional(engine: Engine, *, file_backed: bool) -> None:
    """SQLAlchemy's documented recipe for SQLite transactions: the driver in autocommit mode so
    that SQLAlchemy emits BEGIN itself, here as ``BEGIN IMMEDIATE``."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy, not pysqlite, issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if file_backed:
            cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the one writer
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
