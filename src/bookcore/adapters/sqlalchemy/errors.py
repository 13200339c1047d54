"""Driver errors translated into bookcore's tree at the edge, so services never see a driver."""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from bookcore.errors import (
    AlreadyExists,
    BookcoreError,
    DatabaseUnavailable,
    SchemaNotMigrated,
    StorageError,
    TransientConflict,
)

# PostgreSQL SQLSTATEs and MySQL/MariaDB error numbers, by what bookcore should do about them.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock not available
_RETRYABLE_ERRNOS = frozenset({1205, 1213})  # lock wait timeout, deadlock
_MISSING_TABLE_SQLSTATES = frozenset({"42P01"})
_MISSING_TABLE_ERRNOS = frozenset({1146})
_UNIQUE_SQLSTATES = frozenset({"23505"})
_UNIQUE_ERRNOS = frozenset({1062})
# Can't connect, server gone away, lost during query, killed, shut down, dropped for inactivity.
_CONNECTION_ERRNOS = frozenset({1040, 1045, 1049, 1053, 1927, 2002, 2003, 2005, 2006, 2013, 2055, 4031})
_CONNECTION_HINTS = ("could not connect", "connection refused", "server closed the connection",
                     "terminating connection", "connection is closed", "connection timed out",
                     "unable to open database file", "lost connection", "can't connect",
                     "gone away", "consuming input failed", "connection failed")

#: When the error happened decides what a lost connection means. During a transaction the server
#: has rolled it back, so running it again is safe; at COMMIT nobody knows whether it committed,
#: so it must not be retried blindly; while connecting or migrating there is nothing to retry.
During = Literal["connect", "transaction", "commit", "migration"]


def _sqlstate(error: DBAPIError) -> str | None:
    original = error.orig
    state = getattr(original, "sqlstate", None) or getattr(getattr(original, "diag", None), "sqlstate", None)
    return state if isinstance(state, str) else None


def _errno(error: DBAPIError) -> int | None:
    args = getattr(error.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _reason(error: BaseException) -> str:
    original = error.orig if isinstance(error, StatementError) else error
    return re.sub(r"\s+", " ", str(original)).strip()


def _connection_lost(error: DBAPIError, state: str | None, errno: int | None, message: str) -> bool:
    return (error.connection_invalidated or (state or "").startswith(("08", "57P"))
            or errno in _CONNECTION_ERRNOS or any(hint in message for hint in _CONNECTION_HINTS))


def translate(error: SQLAlchemyError, *, during: During) -> BookcoreError:
    """The bookcore error for a SQLAlchemy/driver error; callers ``raise translate(e, ...) from e``."""
    if isinstance(error, StatementError) and isinstance(error.orig, BookcoreError):
        # One of our column types refused a value (naive datetime, float money): the same error,
        # fresh, so that ``raise ... from`` does not chain it to itself.
        return type(error.orig)(error.orig.message, **error.orig.details)
    if not isinstance(error, DBAPIError):
        return StorageError("database error", reason=_reason(error))
    state, errno, reason = _sqlstate(error), _errno(error), _reason(error)
    message = reason.lower()
    if state in _RETRYABLE_SQLSTATES or errno in _RETRYABLE_ERRNOS or "database is locked" in message \
            or "database table is locked" in message:
        return TransientConflict("the database aborted the transaction; run it again", reason=reason)
    if during == "connect" or _connection_lost(error, state, errno, message):
        if during == "transaction":
            return TransientConflict("connection lost mid-transaction; nothing was committed",
                                     reason=reason)
        if during == "commit":
            return DatabaseUnavailable("connection lost during commit; the outcome is unknown",
                                       reason=reason)
        return DatabaseUnavailable("the database is unreachable", reason=reason)
    if state in _MISSING_TABLE_SQLSTATES or errno in _MISSING_TABLE_ERRNOS or "no such table" in message:
        return SchemaNotMigrated("the database schema is missing; run `bookcore db upgrade`", reason=reason)
    if isinstance(error, IntegrityError) and (state in _UNIQUE_SQLSTATES or errno in _UNIQUE_ERRNOS
                                              or "unique constraint failed" in message):
        return AlreadyExists("a row with this key exists", reason=reason)
    if isinstance(error, IntegrityError):
        return StorageError("a database constraint refused the change", reason=reason)
    return StorageError("database error", reason=reason)
