"""How each storage backend is built for tests. Server URLs come from the environment:
unset -> the test is skipped with the reason; set but unreachable -> the test fails."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

URL_VARIABLES = {"postgres": "BOOKCORE_TEST_POSTGRES_URL", "mariadb": "BOOKCORE_TEST_MARIADB_URL"}
#: Set to SERIALIZABLE to run every PostgreSQL test in bookcore's SERIALIZABLE mode.
ISOLATION_VARIABLE = "BOOKCORE_TEST_POSTGRES_ISOLATION"
SQL_KINDS = ("sqlite", "postgres", "mariadb")
_server_engines: dict[str, Engine] = {}


def sql_urls() -> dict[str, str | None]:
    return {"sqlite": None, **{kind: os.environ.get(var) for kind, var in URL_VARIABLES.items()}}


def server_url(kind: str) -> str:
    url = os.environ.get(URL_VARIABLES[kind])
    if not url:
        pytest.skip(f"{URL_VARIABLES[kind]} is not set; set it to run the {kind} tests")
    return url


def engine_options(kind: str) -> dict[str, str]:
    """What the tests pass to ``create_engine_for`` for ``kind``: the SERIALIZABLE mode on demand."""
    isolation = os.environ.get(ISOLATION_VARIABLE)
    return {"isolation_level": isolation} if kind == "postgres" and isolation else {}


def reset(engine: Engine) -> None:
    """Empty every bookcore table, children first."""
    from bookcore.adapters.sqlalchemy.tables import metadata

    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@functools.cache
def _migrated_sqlite_template() -> Path:
    from bookcore.adapters.sqlalchemy import create_engine_for, migrate

    folder = Path(tempfile.mkdtemp(prefix="bookcore-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    engine = create_engine_for(f"sqlite:///{folder / 'template.db'}")
    migrate(engine)
    engine.dispose()
    return folder / "template.db"


def migrated_sqlite_file(path: Path) -> Path:
    """Write a migrated, empty SQLite database at ``path``: a copy of one migrated once per test
    process (running every migration for each of hundreds of tests cost more than the tests)."""
    shutil.copyfile(_migrated_sqlite_template(), path)
    return path


def fresh_engine(kind: str, tmp_path: Path) -> Engine:
    """A migrated, empty database of ``kind``."""
    from bookcore.adapters.sqlalchemy import create_engine_for, migrate

    if kind == "sqlite":
        return create_engine_for(f"sqlite:///{migrated_sqlite_file(tmp_path / 'bookcore.db')}")
    url = server_url(kind)
    if kind not in _server_engines:
        # Pre-ping: the torture test restarts the server, and these engines outlive it.
        engine = create_engine_for(url, pool_pre_ping=True, **engine_options(kind))
        try:
            _drop_all(engine)
            migrate(engine)
        except Exception as error:  # any failure to reach a server that was asked for fails the run
            pytest.fail(f"{URL_VARIABLES[kind]} is set but {kind} is unreachable: {error}")
        _server_engines[kind] = engine
    reset(_server_engines[kind])
    return _server_engines[kind]


#: The unprefixed schema of revision 0001, children first.
LEGACY_TABLES = ("refunds", "payments", "wallet_entries", "wallet_accounts", "bookings",
                 "inventory_items", "promo_codes")


def _drop_all(engine: Engine) -> None:
    from sqlalchemy import text

    from bookcore.adapters.sqlalchemy.tables import metadata

    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bookcore_alembic_version"))
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        # Tables an older bookcore (before the bookcore_ prefix) left in a reused test database.
        for table in LEGACY_TABLES:
            connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
