"""Databases for the CLI tests, handed over as URLs (the CLI builds its own engine from a URL).

SQLite: a migrated file in the test's tmp_path. PostgreSQL: a database of this test process's own
(``bookcore_cli_<pid>``) on the server named by BOOKCORE_TEST_POSTGRES_URL, created on first use,
emptied before each test and dropped at exit, so the behaviour suite's drop-and-recreate of the
shared database never meets these tests. Unset URL: skipped; set but unreachable: failed.
"""

from __future__ import annotations

import atexit
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for, migrate
from bookcore.catalog import add_inventory_item
from bookcore.clock import ManualClock
from bookcore.holds import place_hold
from bookcore.model import new_id
from bookcore.ports import UnitOfWork
from tests.backends import URL_VARIABLES, migrated_sqlite_file, reset, server_url

KINDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]

_engines: dict[str, Engine] = {}


def _admin(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _drop_database(server: str, name: str) -> None:
    admin = _admin(server)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def own_postgres_database(suffix: str = "") -> str:
    """The URL of this process's own PostgreSQL database (empty, not migrated, on first call)."""
    server = server_url("postgres")
    name = f"bookcore_cli_{os.getpid()}{suffix}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    if url in _engines:
        return url
    admin = _admin(server)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # a server that was asked for must be there
        pytest.fail(f"{URL_VARIABLES['postgres']} is set but PostgreSQL is unreachable: {error}")
    finally:
        admin.dispose()
    _engines[url] = create_engine_for(url)
    atexit.register(_drop_database, server, name)
    return url


def engine_for(url: str) -> Engine:
    if url not in _engines:
        _engines[url] = create_engine_for(url)
    return _engines[url]


def fresh_database(kind: str, tmp_path: Path) -> str:
    """The URL of a migrated, empty database of ``kind``."""
    if kind == "sqlite":
        return f"sqlite:///{migrated_sqlite_file(tmp_path / 'bookcore.db')}"
    url = own_postgres_database()
    engine = engine_for(url)
    migrate(engine)
    reset(engine)
    return url


def unmigrated_database(kind: str, tmp_path: Path) -> str:
    """A reachable database without bookcore's schema."""
    if kind == "sqlite":
        path = tmp_path / "empty.db"
        create_engine(f"sqlite:///{path}").connect().close()
        return f"sqlite:///{path}"
    return own_postgres_database("_empty")


def uow_for(url: str) -> UnitOfWork:
    return SqlAlchemyUnitOfWork(engine_for(url))


def dispose_all() -> None:
    for engine in _engines.values():
        engine.dispose()


atexit.register(dispose_all)


def seed_lapsed_holds(url: str, count: int, *, item_id: str = "lapsed-room") -> None:
    """An item of capacity ``count`` fully taken by ``count`` one-unit holds that lapsed an hour ago.

    The first hold goes through ``place_hold``; the rest are copies of it stored through the
    repositories in one transaction (with their capacity taken), which keeps seeding thousands fast.
    """
    uow = uow_for(url)
    add_inventory_item(uow, item_id=item_id, name=item_id, capacity=count, unit_price=Decimal("100.00"),
                       currency="INR")
    clock = ManualClock(datetime.now(UTC) - timedelta(hours=1))
    first = place_hold(uow, item_id=item_id, customer_id="guest-0", quantity=1, clock=clock).booking
    with uow:
        assert uow.inventory.take(item_id, count - 1)
        for number in range(1, count):
            uow.bookings.add(first.model_copy(update={"id": new_id(), "customer_id": f"guest-{number}"}))
        uow.commit()
