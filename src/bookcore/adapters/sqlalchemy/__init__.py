"""The SQLAlchemy adapter: SQLite (embedded default), PostgreSQL, MariaDB/MySQL."""

from bookcore.adapters.sqlalchemy.engine import create_engine_for
from bookcore.adapters.sqlalchemy.migrate import current_revision, head_revision, migrate
from bookcore.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork

__all__ = ["SqlAlchemyUnitOfWork", "create_engine_for", "current_revision", "head_revision", "migrate"]
