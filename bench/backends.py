"""The databases a benchmark runs on: a bench-only PostgreSQL database and a temporary SQLite file.

Each backend hands out bookcore engines, raw driver connections for the baselines, bulk loading
(COPY on PostgreSQL, executemany on SQLite) and a reset that leaves a freshly migrated schema, so
bookcore and its baseline always work on identical tables and indexes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, make_url
from sqlalchemy.engine import URL

from bookcore import create_engine_for, migrate
from bookcore.adapters.sqlalchemy.tables import metadata

BENCH_DATABASE = "bookcore_bench"
URL_VARIABLES = ("BOOKCORE_BENCH_POSTGRES_URL", "BOOKCORE_TEST_POSTGRES_URL")
SQLITE_BUSY_TIMEOUT_S = 30.0
#: Below PostgreSQL's default max_connections (100), leaving room for other users of the server.
MAX_POOL = 70
MONEY_SCALE = 3

RawConnection = psycopg.Connection[tuple[Any, ...]] | sqlite3.Connection


class Backend:
    """What every benchmark needs from a database; see PostgresBackend and SqliteBackend."""

    name: str
    url: str
    _money_in_thousandths: bool | None = None

    def money(self, amount: Decimal) -> int | Decimal:
        """An amount as the schema stores it: whole thousandths in an integer column, else exact."""
        return int(amount.scaleb(MONEY_SCALE)) if self._thousandths() else amount

    def money_from(self, value: int | Decimal) -> Decimal:
        return Decimal(value).scaleb(-MONEY_SCALE) if self._thousandths() else Decimal(value)

    def _thousandths(self) -> bool:
        if self._money_in_thousandths is None:
            self._money_in_thousandths = "int" in self._column_type("bookings", "total_amount").lower()
        return self._money_in_thousandths

    def _column_type(self, table: str, column: str) -> str:
        raise NotImplementedError

    def engine(self, pool_size: int = 1) -> Engine:
        size = max(1, min(pool_size, MAX_POOL))
        return create_engine_for(self.url, pool_size=size, max_overflow=0, pool_timeout=60)

    def raw(self) -> RawConnection:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def reset(self) -> None:
        """Drop everything and migrate afresh: the schema bookcore's migrations build."""
        self._drop_everything()
        engine = self.engine()
        try:
            migrate(engine)
        finally:
            engine.dispose()
        self._money_in_thousandths = None

    def _drop_everything(self) -> None:
        raise NotImplementedError

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-insert rows straight into a table (not through bookcore); returns the count."""
        raise NotImplementedError

    def analyze(self) -> None:
        raise NotImplementedError

    def scalar(self, sql: str, *params: Any) -> Any:
        """One value from a query (``?`` placeholders), on a short-lived raw connection."""
        raise NotImplementedError

    def sibling(self, label: str) -> Backend:
        """Another database of the same kind beside this one, removed when it is closed: a second
        table size measured in the same minutes as the first."""
        raise NotImplementedError

    def close(self) -> None:
        """Remove what this backend created that is not meant to outlive the run."""


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, given_url: str, database: str = BENCH_DATABASE, *, owned: bool = False) -> None:
        """The benchmark's ``database`` on the server of ``given_url``, created unless it exists;
        ``owned``: dropped again on ``close``."""
        given = make_url(given_url)
        if given.drivername == "postgresql":
            given = given.set(drivername="postgresql+psycopg")
        self._given, self._database, self._owned = given, database, owned
        self.url = given.set(database=database).render_as_string(hide_password=False)
        self._dsn = _libpq(given.set(database=database))
        _create_database(given, database)

    def raw(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(self._dsn)

    def version(self) -> str:
        return str(self.scalar("SHOW server_version"))

    def _column_type(self, table: str, column: str) -> str:
        return str(self.scalar("SELECT data_type FROM information_schema.columns "
                               "WHERE table_name = ? AND column_name = ?", table, column))

    def _drop_everything(self) -> None:
        tables = [table.name for table in metadata.sorted_tables] + ["bookcore_alembic_version"]
        with psycopg.connect(self._dsn, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {', '.join(tables)} CASCADE")

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        with psycopg.connect(self._dsn) as connection, connection.cursor() as cursor, \
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def analyze(self) -> None:
        with psycopg.connect(self._dsn, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")

    def scalar(self, sql: str, *params: Any) -> Any:
        with psycopg.connect(self._dsn, autocommit=True) as connection:
            row = connection.execute(sql.replace("?", "%s"), params).fetchone()
            return None if row is None else row[0]

    def sibling(self, label: str) -> PostgresBackend:
        return PostgresBackend(self._given.render_as_string(hide_password=False),
                               f"{BENCH_DATABASE}_{label}", owned=True)

    def close(self) -> None:
        if self._owned:
            _drop_database(self._given, self._database)


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, path: Path | None = None) -> None:
        """A database file in a fresh temporary directory, or the existing file at ``path``."""
        self._directory = Path(tempfile.mkdtemp(prefix="bookcore-bench-")) if path is None else None
        self.path = path or Path(self._directory or ".") / "bench.db"
        self.url = f"sqlite:///{self.path}"

    def raw(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None,
                                     check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA journal_mode = WAL")
        return connection

    def version(self) -> str:
        return sqlite3.sqlite_version

    def _column_type(self, table: str, column: str) -> str:
        connection = self.raw()
        try:
            return next(str(row[2]) for row in connection.execute(f"PRAGMA table_info({table})")
                        if row[1] == column)
        finally:
            connection.close()

    def _drop_everything(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        connection = self.raw()
        try:
            before = connection.total_changes
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                rows)
            connection.execute("COMMIT")
            return connection.total_changes - before
        finally:
            connection.close()

    def analyze(self) -> None:
        connection = self.raw()
        try:
            connection.execute("ANALYZE")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()

    def scalar(self, sql: str, *params: Any) -> Any:
        connection = self.raw()
        try:
            row = connection.execute(sql, params).fetchone()
            return None if row is None else row[0]
        finally:
            connection.close()

    def sibling(self, label: str) -> SqliteBackend:
        return SqliteBackend()

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)


def postgres_url_from_environment() -> str | None:
    return next((os.environ[name] for name in URL_VARIABLES if os.environ.get(name)), None)


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _create_database(given: URL, database: str) -> None:
    """CREATE DATABASE ``database`` on the given URL's server unless it exists (tests never use it)."""
    with _server(given) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists is None:
            connection.execute(f'CREATE DATABASE "{database}"')


def _drop_database(given: URL, database: str) -> None:
    with _server(given) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _server(given: URL) -> psycopg.Connection[tuple[Any, ...]]:
    """An autocommit connection to the given URL's own database, else to ``postgres``."""
    for database in (given.database, "postgres"):
        try:
            return psycopg.connect(_libpq(given.set(database=database)), autocommit=True)
        except psycopg.OperationalError:
            continue
    raise RuntimeError(f"cannot reach the PostgreSQL server of {given.render_as_string()}")
