"""SQLAlchemy on the database connection Django already has open: no second pool, no second
connection, no transaction of SQLAlchemy's own.

One engine per database alias, built on first use and kept by the app's config. Its pool
(``StaticPool``, through the public ``creator`` option) holds a single ``DjangoDBAPIConnection``,
which hands every call to whatever DBAPI connection Django holds for that alias in the calling
thread. Its ``commit``, ``rollback``
and ``close`` do nothing: that connection and its transaction are Django's. So SQLAlchemy's pool
never resets (rolls back) or closes it, its first-connect setup cannot roll back a view's
half-finished ``atomic()`` block, and ending a ``Connection`` leaves Django's transaction as it
was; bookcore's own work is a SAVEPOINT inside it (``DjangoUnitOfWork``).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connections
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from bookcore.contrib.django.apps import BookcoreConfig
from bookcore.errors import InvalidInput, StorageError

#: SQLAlchemy's dialect for each Django backend's DBAPI module, by (vendor, module name).
DIALECTS = {
    ("postgresql", "psycopg"): "postgresql+psycopg",
    ("postgresql", "psycopg2"): "postgresql+psycopg2",
    ("sqlite", "sqlite3"): "sqlite+pysqlite",
}

class DjangoDBAPIConnection:
    """The DBAPI connection SQLAlchemy sees for a Django database alias; see the module's doc."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def current(self) -> Any:
        """Django's DBAPI connection for this alias in the calling thread."""
        connection = connections[self.alias].connection
        if connection is None:
            raise StorageError("Django has no open connection for this database alias; run bookcore "
                               "through DjangoUnitOfWork", alias=self.alias)
        return connection

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return self.current().cursor(*args, **kwargs)

    def commit(self) -> None:
        """Django's ``atomic()`` commits; nothing else may."""

    def rollback(self) -> None:
        """Django's ``atomic()`` rolls back; bookcore rolls back only its own savepoints."""

    def close(self) -> None:
        """Django closes its connections (``CONN_MAX_AGE``, end of request)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current(), name)


def engine_for(alias: str) -> Engine:
    """The engine whose connections are Django's connection for ``alias`` (built once, kept by
    the ``bookcore`` app's config)."""
    try:
        config = apps.get_app_config("bookcore")
    except LookupError:
        config = None
    if not isinstance(config, BookcoreConfig):
        raise InvalidInput('add "bookcore.contrib.django" to INSTALLED_APPS', field="INSTALLED_APPS")
    return config.engine(alias)


def build_engine(alias: str) -> Engine:
    wrapper = connections[alias]
    driver = getattr(getattr(wrapper, "Database", None), "__name__", "").partition(".")[0]
    dialect = DIALECTS.get((wrapper.vendor, driver))
    if dialect is None:
        raise InvalidInput("bookcore.contrib.django supports Django's PostgreSQL and SQLite backends",
                           field="DATABASES", alias=alias, vendor=wrapper.vendor)
    options: dict[str, Any] = {}
    if dialect.startswith("postgresql"):
        options["use_native_hstore"] = False  # its lookup would run on Django's connection
    return create_engine(f"{dialect}://", creator=lambda: DjangoDBAPIConnection(alias),
                         poolclass=StaticPool, pool_reset_on_return=None, **options)
