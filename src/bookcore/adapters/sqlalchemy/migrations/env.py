"""Alembic environment. ``bookcore.adapters.sqlalchemy.migrate`` hands over its connection in
``config.attributes["connection"]``; the ``alembic`` command line (``-x url=...``) also works, for
writing new revisions with ``alembic revision --autogenerate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bookcore.adapters.sqlalchemy.migrate import VERSION_TABLE, adopt_legacy_version
from bookcore.adapters.sqlalchemy.tables import metadata


def _run(connection: Connection) -> None:
    adopt_legacy_version(connection)
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      compare_type=True, version_table=VERSION_TABLE,
                      include_name=_only_bookcore)
    with context.begin_transaction():
        context.run_migrations()


def _only_bookcore(name: str | None, type_: str, _parent_names: object) -> bool:
    """Autogenerate looks at bookcore's tables only, never at the host app's beside them."""
    return type_ != "table" or (name or "").startswith("bookcore_")


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from bookcore.adapters.sqlalchemy.engine import create_engine_for

    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url")
    if not url:
        raise SystemExit("pass the database URL: alembic -x url=sqlite:///bookcore.db ...")
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


_main()
