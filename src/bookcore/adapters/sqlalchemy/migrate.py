"""Running the Alembic migrations shipped inside the package, from code (no alembic.ini needed)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    column,
    delete,
    insert,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bookcore.adapters.sqlalchemy.engine import check_engine
from bookcore.adapters.sqlalchemy.errors import translate
from bookcore.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
#: bookcore's own Alembic version table, so a host app's ``alembic_version`` (and its history,
#: revision names included) can share the database.
VERSION_TABLE = "bookcore_alembic_version"
#: Where databases migrated before bookcore had its own version table kept their revision.
LEGACY_VERSION_TABLE = "alembic_version"
#: Tables of that schema, one of which tells a legacy bookcore database from a host's own history.
LEGACY_TABLES = ("inventory_items", "bookings", "wallet_accounts", "payments")
_LOCK_NAME = "bookcore_migrate"
_LOCK_KEY = 0x626F6F6B636F7265  # "bookcore": one advisory lock number, shared by every process
_LOCK_TIMEOUT_S = 60
# Alembic keeps the running migration's context in module globals, so two threads of one process
# must not migrate at once (the second would see, or tear down, the first one's context).
_IN_PROCESS = threading.Lock()


def _config() -> Config:
    # Alembic is imported here, not at the top: only migrations need it, and it is slow to load.
    from alembic.config import Config

    config = Config()
    # Config values are interpolated: a '%' in the install path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return config


def head_revision() -> str:
    with _alembic_quiet():
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise StorageError("no migrations found", location=str(MIGRATIONS))
    return head


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest revision; does nothing if it is there already.

    Safe to run from several processes at once (every instance of an app on deploy): they
    queue on a database lock and all but the first find nothing to do.
    """
    check_engine(engine)
    with _alembic_quiet():
        from alembic import command

        config = _config()
    with _IN_PROCESS, _alembic_quiet(), _connected(engine) as connection:
        try:
            with _migration_lock(connection):
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                connection.commit()
        except SQLAlchemyError as error:
            raise translate(error, during="migration") from error


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None if it was never migrated."""
    check_engine(engine)
    with _alembic_quiet():
        from alembic.runtime.migration import MigrationContext
    with _alembic_quiet(), _connected(engine) as connection:
        try:
            return MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE}).get_current_revision()
        except SQLAlchemyError as error:
            raise translate(error, during="migration") from error


@contextmanager
def _alembic_quiet() -> Iterator[None]:
    """Alembic's INFO lines ("Context impl SQLiteImpl.", one per plugin) stay out of an app's log
    configured at INFO; an app that sets the ``alembic`` logger's level itself still sees them."""
    logger = logging.getLogger("alembic")
    if logger.level != logging.NOTSET:
        yield
        return
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(logging.NOTSET)


@contextmanager
def _connected(engine: Engine) -> Iterator[Connection]:
    """A connection; failing to get one is DatabaseUnavailable, as everywhere else in bookcore."""
    try:
        connection = engine.connect()
    except SQLAlchemyError as error:
        raise translate(error, during="connect") from error
    with connection:
        yield connection


def adopt_legacy_version(connection: Connection) -> None:
    """Move a bookcore revision from ``alembic_version`` to ``bookcore_alembic_version``, where
    Alembic now looks for it, if this database was migrated by a bookcore that had no table of its
    own (its tables are still unprefixed); the emptied ``alembic_version`` is dropped. A host's own
    ``alembic_version`` is left alone."""
    from alembic.script import ScriptDirectory

    names = set(inspect(connection).get_table_names())
    if VERSION_TABLE in names or LEGACY_VERSION_TABLE not in names \
            or not names.intersection(LEGACY_TABLES):
        return
    legacy = table(LEGACY_VERSION_TABLE, column("version_num"))
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    found = [row[0] for row in connection.execute(select(legacy.c.version_num))]
    adopted = [revision for revision in found if revision in known]
    if not adopted:
        return
    # The shape Alembic gives its version table, which it then finds and uses.
    version = Table(VERSION_TABLE, MetaData(), Column("version_num", String(32), nullable=False),
                    PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"))
    version.create(connection)
    connection.execute(insert(version), [{"version_num": revision} for revision in adopted])
    connection.execute(delete(legacy).where(legacy.c.version_num.in_(adopted)))
    if len(adopted) == len(found):
        connection.execute(text(f"DROP TABLE {LEGACY_VERSION_TABLE}"))


@contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """PostgreSQL: a transaction-level advisory lock. MySQL/MariaDB: a named session lock (their
    DDL commits as it goes). SQLite: BEGIN IMMEDIATE already serializes writers."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        yield
    elif dialect in ("mysql", "mariadb"):
        got = connection.execute(text("SELECT GET_LOCK(:name, :timeout)"),
                                 {"name": _LOCK_NAME, "timeout": _LOCK_TIMEOUT_S}).scalar()
        if got != 1:
            raise StorageError("another process is migrating this database; try again",
                               lock=_LOCK_NAME)
        try:
            yield
        finally:
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK_NAME})
    else:
        yield
