"""Where the CLI's database comes from: the URL options, and an engine built inside each command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from bookcore.cli.output import mask_url, reported
from bookcore.errors import InvalidInput, SchemaNotMigrated

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

    from bookcore.ports import UnitOfWork

DEFAULT_DATABASE_URL = "sqlite:///bookcore.db"
URL_VARIABLE = "BOOKCORE_DATABASE_URL"

#: The root option: ``bookcore --database-url URL COMMAND``, or the environment, or the default.
RootDatabaseUrl = Annotated[str, typer.Option(
    "--database-url", envvar=URL_VARIABLE, show_envvar=True,
    help="SQLAlchemy database URL, e.g. postgresql+psycopg://user@host/db. The default is an "
         "embedded SQLite file in the current directory.")]

#: The same option given after a command name (``bookcore expire --database-url URL``).
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", show_default=False,
    help=f"Database URL for this command (overrides the global option and ${URL_VARIABLE}).")]


@dataclass(frozen=True)
class Settings:
    database_url: str


def database_url(ctx: typer.Context, override: str | None) -> str:
    if override is not None:
        return override
    settings = ctx.find_root().obj
    return settings.database_url if isinstance(settings, Settings) else DEFAULT_DATABASE_URL


class Database(Protocol):
    """What a command needs of its database: units of work, and a name it may print."""

    @property
    def shown_url(self) -> str: ...

    def uow(self) -> UnitOfWork: ...


@dataclass(frozen=True)
class Store:
    engine: Engine
    shown_url: str
    """The URL as it may be printed: password masked."""

    def uow(self) -> UnitOfWork:
        from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork

        return SqlAlchemyUnitOfWork(self.engine)


def _missing_sqlite_file(parsed: URL) -> Path | None:
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None
    path = Path(database)
    return None if path.exists() else path


def _parsed(url: str) -> URL:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        raise InvalidInput("not a database URL; expected e.g. sqlite:///bookcore.db or "
                           "postgresql+psycopg://user@host/db") from None


def _engine(url: str, *, create: bool) -> Engine:
    from sqlalchemy.exc import ArgumentError

    from bookcore.adapters.sqlalchemy import create_engine_for
    from bookcore.adapters.sqlalchemy.drivers import driver_hint

    parsed = _parsed(url)
    try:
        parsed.get_dialect().import_dbapi()
    except ArgumentError as error:  # no such dialect
        raise InvalidInput(f"cannot use this database URL: {error}", url=mask_url(url)) from None
    except ImportError:
        raise InvalidInput(driver_hint(parsed)) from None
    missing = _missing_sqlite_file(parsed)
    if missing is not None and not create:
        raise SchemaNotMigrated(f"no database file at {missing}; run `bookcore db upgrade` to create it")
    try:
        return create_engine_for(url)
    except ArgumentError as error:
        raise InvalidInput(f"cannot use this database URL: {error}", url=mask_url(url)) from None


@contextmanager
def open_store(url: str, *, create: bool = False) -> Iterator[Store]:
    """An engine for ``url`` for the length of one command; errors become one line and an exit code.

    A SQLite file that does not exist is created only when ``create`` (``db upgrade``); any other
    command says the schema is not migrated instead of leaving an empty file behind.
    """
    with reported():
        engine = _engine(url, create=create)
        try:
            yield Store(engine=engine, shown_url=mask_url(url))
        finally:
            engine.dispose()
