"""The SQLAlchemy unit of work: one pooled connection, one transaction, rolled back unless committed.

The transaction is driven through the dialect (``do_begin``, ``do_commit``, ``do_rollback``) on
the pooled DBAPI connection, as Core drives it, without Core's per-transaction objects: a
``Connection``, its ``RootTransaction`` and their event dispatch cost a third of an empty
transaction on SQLite, and holds and payments run thousands a second. A Core ``Connection`` is
opened on the same pooled connection only when a statement needs Core (anything not
``Prepared``). Pool events, reset-on-return and invalidation behave as under Core; engine-level
``begin``/``commit``/``rollback`` events are not fired for bookcore's transactions. On a SQLite
file the units of work of an engine take turns on one connection, kept between turns (writer.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import Executable
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection

from bookcore.adapters.sqlalchemy.audit_queries import SqlAuditQueries
from bookcore.adapters.sqlalchemy.bookings import SqlBookingRepository
from bookcore.adapters.sqlalchemy.engine import turnstile_for, writer_for
from bookcore.adapters.sqlalchemy.errors import During, translate
from bookcore.adapters.sqlalchemy.group_commit import GroupCommit
from bookcore.adapters.sqlalchemy.prepared import Prepared, driver_failure
from bookcore.adapters.sqlalchemy.repositories import (
    SqlInventoryRepository,
    SqlPaymentRepository,
    SqlPromoRepository,
    SqlRefundRepository,
    SqlWalletRepository,
)
from bookcore.errors import BookcoreError, StorageError, TransientConflict
from bookcore.logs import Event

T = TypeVar("T")
_SAVEPOINT = "bookcore_call"


class SqlAlchemyUnitOfWork:
    """``with uow: ...; uow.commit()``. Each ``with`` is a new transaction on a connection from the
    engine's pool; leaving the block rolls back whatever was not committed and gives the
    connection back. ``committed`` tells whether the last block committed. One thread at a time:
    give each thread its own unit of work (they can share the engine).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect_name = engine.dialect.name
        self.update_returning = bool(engine.dialect.update_returning)
        # SQLAlchemy has no flag for it; of the supported databases only PostgreSQL has it.
        self.writes_in_ctes = self.dialect_name == "postgresql"
        self.committed = False
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._pooled: PoolProxiedConnection | None = None
        self._core: Connection | None = None  # opened for Core statements only
        # Prepared statements share one DBAPI cursor per block: a cursor each cost more CPU than
        # binding a statement's parameters.
        self._cursor: Any = None
        self._open = False  # a transaction is open on the pooled connection
        self._writer = writer_for(engine)  # SQLite files: one transaction at a time, one connection
        self._writer_generation = 0
        # Turns in arrival order before the pool is asked (turnstile.py): SQLite's one, or a
        # server pool's one per connection; None for engines bookcore did not create.
        self._turnstile = turnstile_for(engine)
        # SQLite files: concurrent callers' transactions commit as one (group_commit.py).
        self._group: GroupCommit | None = None if self._writer is None else self._writer.group
        self._grouped = False  # running other callers' works too: commit/rollback are the group's
        self.inventory = SqlInventoryRepository(self)
        self.bookings = SqlBookingRepository(self)
        self.wallets = SqlWalletRepository(self)
        self.payments = SqlPaymentRepository(self)
        self.refunds = SqlRefundRepository(self)
        self.promos = SqlPromoRepository(self)
        self.audit = SqlAuditQueries(self)

    def __enter__(self) -> Self:
        if self._pooled is not None:
            raise StorageError("this unit of work is already in a transaction; use another one")
        self.committed = False
        turnstile = self._turnstile
        if turnstile is not None and not turnstile.enter():
            reason = f"waited {turnstile.timeout:g} s for a turn"
            if self._writer is not None:  # SQLite's lock stayed taken, as its busy timeout reports
                raise TransientConflict("the database stayed busy; run it again", reason=reason)
            # As the pool's own timeout would have failed it: not retried, the pool is full.
            raise StorageError(f"none of the pool's {turnstile.permits} connections came free",
                               reason=reason)
        try:  # from here on, _release gives back whatever was taken, the turn included
            pooled = self._checkout()
            self._begin(pooled, during="connect")
        except BaseException:
            self._release()
            raise
        return self

    def _checkout(self) -> PoolProxiedConnection:
        writer = self._writer
        if writer is not None:
            parked, self._cursor, self._writer_generation = writer.take()
            if parked is not None:
                self._pooled = parked
                return parked
        try:
            pooled = self.engine.raw_connection()
        except SQLAlchemyError as error:  # the pool's own refusals (timed out waiting)
            raise translate(error, during="connect") from error
        except self._driver_error as error:
            raise driver_failure(self.engine, None, error, None, None, during="connect") from error
        self._pooled = pooled
        if writer is not None:
            pooled.detach()  # the turns own it now (writer.py); the pool opens another if asked
        return pooled

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._release()

    def run(self, statement: Executable | Prepared, parameters: Any = None) -> Any:
        pooled = self._current()
        if not self._open:  # the block goes on after commit() or rollback(): a new transaction
            self._begin(pooled, during="transaction")
        if isinstance(statement, Prepared):  # translates its own errors
            if self._cursor is None:
                self._cursor = self._new_cursor(pooled)
            try:
                return statement.execute(self._cursor, pooled, self.engine, parameters or {})
            except BaseException:
                self._drop_cursor()  # whatever state the failure left it in, start afresh
                raise
        try:
            return self._core_connection(pooled).execute(statement, parameters)
        except SQLAlchemyError as error:
            raise translate(error, during="transaction") from error

    def in_group(self, work: Callable[[Self, list[Event]], T]) -> tuple[T, list[Event]] | None:
        """Run ``work`` committed together with other threads' (group_commit.py): its result and
        events once committed, or None when it must run alone (nothing of it committed; always
        None where this engine does not group). Raises the work's refusal or the COMMIT's error."""
        group = self._group
        if group is None:
            return None
        self.committed = False
        outcome = group.run(self, work)
        self.committed = outcome is not None
        return outcome

    def grouping(self, on: bool) -> None:
        """Whether the block runs several callers' works (group_commit.py): it may not be
        committed or rolled back by them then."""
        self._grouped = on

    def savepoint(self) -> None:
        self._execute_plain(f"SAVEPOINT {_SAVEPOINT}")

    def release_savepoint(self) -> None:
        self._execute_plain(f"RELEASE {_SAVEPOINT}")

    def rollback_to_savepoint(self) -> None:
        """Undo the work since ``savepoint()`` and drop it; the transaction goes on."""
        self._execute_plain(f"ROLLBACK TO {_SAVEPOINT}")
        self._execute_plain(f"RELEASE {_SAVEPOINT}")

    def _execute_plain(self, sql: str) -> None:
        pooled = self._current()
        if not self._open:
            self._begin(pooled, during="transaction")
        try:
            pooled.dbapi_connection.execute(sql)  # type: ignore[union-attr]
        except self._driver_error as error:
            raise driver_failure(self.engine, pooled, error, sql, None, during="transaction") from error

    def commit(self) -> None:
        """Commit the work so far; the block may go on, in a new transaction."""
        self._refuse_in_group("commit")
        pooled = self._current()
        if self._open:
            self._end(pooled, commit=True, during="commit")
        self.committed = True

    def rollback(self) -> None:
        """Undo the work since the last commit; the block may go on, in a new transaction."""
        self._refuse_in_group("roll back")
        pooled = self._current()
        if self._open:
            self._end(pooled, commit=False, during="transaction")

    def _refuse_in_group(self, what: str) -> None:
        if self._grouped:
            raise StorageError(f"a work run in a group commit may not {what} its transaction; "
                               "it runs again alone")

    def _current(self) -> PoolProxiedConnection:
        pooled = self._pooled
        if pooled is None:
            raise StorageError("the unit of work is used outside `with uow:`")
        if not pooled.is_valid:
            raise TransientConflict("the connection was lost; this transaction is gone")
        return pooled

    def _begin(self, pooled: PoolProxiedConnection, *, during: During) -> None:
        # BEGIN IMMEDIATE on SQLite (see engine.py); the server drivers begin with the first statement.
        try:
            self.engine.dialect.do_begin(pooled)
        except self._driver_error as error:
            raise driver_failure(self.engine, pooled, error, "BEGIN", None, during=during) from error
        self._open = True

    def _end(self, pooled: PoolProxiedConnection, *, commit: bool, during: During) -> None:
        core = self._core
        try:
            if core is not None and core.in_transaction():  # Core began it; Core ends it
                core.commit() if commit else core.rollback()
            elif commit:
                self.engine.dialect.do_commit(pooled)
            else:
                self.engine.dialect.do_rollback(pooled)
        except SQLAlchemyError as error:
            raise translate(error, during=during) from error
        except self._driver_error as error:
            raise driver_failure(self.engine, pooled, error, "COMMIT" if commit else "ROLLBACK",
                                 None, during=during) from error
        self._open = False

    def _drop_cursor(self) -> None:
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            with contextlib.suppress(Exception):  # closing one on a lost connection fails too
                cursor.close()

    def _new_cursor(self, pooled: PoolProxiedConnection) -> Any:
        try:
            return pooled.cursor()
        except self._driver_error as error:
            raise driver_failure(self.engine, pooled, error, None, None, during="transaction") from error

    def _core_connection(self, pooled: PoolProxiedConnection) -> Connection:
        if self._core is None:
            # Core's own BEGIN on this connection finds the transaction open and adds nothing
            # (SQLite's BEGIN is skipped inside a transaction; the servers' is implicit).
            self._core = Connection(self.engine, connection=pooled)
        return self._core

    def _release(self) -> None:
        """End the block: called exactly once for each ``__enter__`` that got its turn."""
        try:
            self._give_back()
        finally:
            if self._turnstile is not None:  # only once the connection is back, its transaction over
                self._turnstile.leave()

    def _give_back(self) -> None:
        pooled, core, still_open = self._pooled, self._core, self._open
        self._pooled, self._core, self._open = None, None, False
        if pooled is not None and pooled.is_valid and still_open:
            try:
                self._end(pooled, commit=False, during="transaction")
            except BookcoreError:
                # The rollback failed: whatever state the connection is in, it is not reused.
                if pooled.is_valid:
                    pooled.invalidate()
        if pooled is None or not pooled.is_valid:
            self._drop_cursor()
            return  # never checked out, or invalidated: the pool already took it back
        if self._writer is not None:
            # Kept for the next turn, with its cursor. A Core connection over it has ended its
            # transaction and is dropped unclosed: closing it would close the shared connection.
            cursor, self._cursor = self._cursor, None
            self._writer.put_back(pooled, cursor, self._writer_generation)
            return
        self._drop_cursor()
        (core or pooled).close()  # back to the pool (a Core connection closes its pooled one)
