"""The databases a benchmark runs on: a PostgreSQL database and a temporary SQLite file.

A backend resets to a freshly migrated schema (bookcore's tables, by ``bookcore.migrate``), loads
rows in bulk (COPY on PostgreSQL, executemany on SQLite) and answers the harness's checks. What a
client process needs to connect on its own is a ``Target``: plain data, sent to the process.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, make_url
from sqlalchemy.engine import URL

from bookcore import create_engine_for, migrate

#: The benchmark's own database on the server of BOOKCORE_TEST_POSTGRES_URL (tests never use it).
BENCH_DATABASE = "bookcore_bench"
BENCH_URL = "BOOKCORE_BENCH_POSTGRES_URL"
TEST_URL = "BOOKCORE_TEST_POSTGRES_URL"
SQLITE_BUSY_TIMEOUT_S = 30.0
MONEY_SCALE = 3
#: Every table the harness drops before migrating afresh: bookcore's and the ORM pattern's.
TABLES = ("bookcore_event_cursors", "bookcore_events", "bookcore_refunds", "bookcore_payments",
          "bookcore_wallet_entries", "bookcore_wallet_accounts", "bookcore_bookings",
          "bookcore_inventory_items", "bookcore_promo_codes", "bookcore_alembic_version",
          "peer_refunds", "peer_payments", "peer_wallet_entries", "peer_wallets", "peer_bookings",
          "peer_items",
          # An older bookcore's unprefixed tables, in a reused benchmark database.
          "refunds", "payments", "wallet_entries", "wallet_accounts", "bookings", "inventory_items",
          "promo_codes", "alembic_version")


@dataclass(frozen=True)
class Target:
    """How a client process reaches the database: ``kind`` postgres or sqlite, bookcore's URL, and
    SQLite's ``synchronous`` level as bookcore's engine sets it (the baselines use the same)."""

    kind: str
    url: str
    sqlite_synchronous: int | None = None

    def money(self, amount: Decimal) -> int | Decimal:
        """An amount as bookcore stores it: whole thousandths on SQLite, exact on servers."""
        return int(amount.scaleb(MONEY_SCALE)) if self.kind == "sqlite" else amount

    def money_from(self, stored: int | Decimal) -> Decimal:
        return Decimal(stored).scaleb(-MONEY_SCALE) if self.kind == "sqlite" else Decimal(stored)

    def timestamp(self, moment: datetime) -> Any:
        """A UTC instant as bookcore stores it: naive UTC (SQLite: its text format)."""
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        return naive.isoformat(sep=" ", timespec="microseconds") if self.kind == "sqlite" else naive

    def sqlite_path(self) -> str:
        return str(make_url(self.url).database)

    def libpq(self) -> str:
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)


class Backend:
    """One database the benchmark owns for the run; see PostgresBackend and SqliteBackend."""

    name: str
    url: str

    def engine(self) -> Engine:
        """A bookcore engine with one connection, as a client process builds it."""
        return create_engine_for(self.url, pool_size=1, max_overflow=0)

    def target(self) -> Target:
        synchronous = None
        if self.name == "sqlite":
            engine = self.engine()
            try:
                with engine.connect() as connection:
                    synchronous = int(connection.exec_driver_sql("PRAGMA synchronous").scalar_one())
            finally:
                engine.dispose()
        return Target(self.name, self.url, synchronous)

    def reset(self) -> None:
        """Drop every table and migrate afresh: the schema bookcore's migrations build."""
        self._drop_everything()
        engine = self.engine()
        try:
            migrate(engine)
        finally:
            engine.dispose()

    def _drop_everything(self) -> None:
        raise NotImplementedError

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-insert rows straight into a table (through no implementation); returns the count."""
        raise NotImplementedError

    def analyze(self) -> None:
        raise NotImplementedError

    def scalar(self, sql: str, *params: Any) -> Any:
        """One value from a query (``?`` placeholders), on a short-lived connection."""
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """The settings that decide what a commit costs."""
        raise NotImplementedError

    def close(self) -> None:
        """Remove what this backend created that is not meant to outlive the run."""


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, url: str) -> None:
        given = make_url(url)
        if given.drivername == "postgresql":
            given = given.set(drivername="postgresql+psycopg")
        self.url = given.render_as_string(hide_password=False)
        self._dsn = given.set(drivername="postgresql").render_as_string(hide_password=False)

    def _drop_everything(self) -> None:
        with psycopg.connect(self._dsn, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)} CASCADE")

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

    def version(self) -> str:
        return str(self.scalar("SHOW server_version"))

    def settings(self) -> dict[str, Any]:
        return {name: self.scalar(f"SHOW {name}") for name in
                ("synchronous_commit", "fsync", "default_transaction_isolation", "shared_buffers")}


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="bookcore-bench-"))
        self.path = self._directory / "bench.db"
        self.url = f"sqlite:///{self.path}"

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        return connection

    def _drop_everything(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        connection = self._connect()
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
        connection = self._connect()
        try:
            connection.execute("ANALYZE")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()

    def scalar(self, sql: str, *params: Any) -> Any:
        connection = self._connect()
        try:
            row = connection.execute(sql, params).fetchone()
            return None if row is None else row[0]
        finally:
            connection.close()

    def version(self) -> str:
        return sqlite3.sqlite_version

    def settings(self) -> dict[str, Any]:
        synchronous = self.target().sqlite_synchronous
        return {"journal_mode": self.scalar("PRAGMA journal_mode"),
                "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(synchronous or -1, "?")}

    def close(self) -> None:
        shutil.rmtree(self._directory, ignore_errors=True)


def postgres_from_environment() -> tuple[PostgresBackend | None, str]:
    """The PostgreSQL backend the environment names, or None and the reason it is skipped.

    BOOKCORE_BENCH_POSTGRES_URL names the database to use as it is (its tables are dropped);
    BOOKCORE_TEST_POSTGRES_URL names a server, on which the benchmark creates bookcore_bench.
    """
    if url := os.environ.get(BENCH_URL):
        return PostgresBackend(url), f"PostgreSQL: {_masked(make_url(url))}"
    if url := os.environ.get(TEST_URL):
        given = make_url(url)
        _create_database(given, BENCH_DATABASE)
        bench = given.set(database=BENCH_DATABASE)
        return PostgresBackend(bench.render_as_string(hide_password=False)), \
            f"PostgreSQL: {_masked(bench)}"
    return None, f"PostgreSQL skipped: set {BENCH_URL} (a database of its own) or {TEST_URL} (a server)"


def _masked(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _create_database(given: URL, database: str) -> None:
    """CREATE DATABASE ``database`` on the given URL's server unless it exists."""
    dsn = given.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists is None:
            connection.execute(f'CREATE DATABASE "{database}"')
