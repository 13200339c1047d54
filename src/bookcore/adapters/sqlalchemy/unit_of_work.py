"""The SQLAlchemy unit of work: one ``Connection`` from the engine's pool, one transaction on it,
rolled back unless committed; or, given a caller's ``Connection``, one SAVEPOINT inside the
caller's transaction. Every statement runs through that ``Connection``, so engine events,
``echo`` and instrumentation (OpenTelemetry, Sentry) see all of them."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Executable, event
from sqlalchemy.engine import Connection, CursorResult, Engine, Transaction
from sqlalchemy.exc import SQLAlchemyError

from bookcore.adapters.sqlalchemy.audit_queries import SqlAuditQueries
from bookcore.adapters.sqlalchemy.bookings import SqlBookingRepository
from bookcore.adapters.sqlalchemy.engine import check_engine
from bookcore.adapters.sqlalchemy.errors import During, translate
from bookcore.adapters.sqlalchemy.events import SqlEventLog
from bookcore.adapters.sqlalchemy.repositories import (
    SqlInventoryRepository,
    SqlPaymentRepository,
    SqlPromoRepository,
    SqlRefundRepository,
    SqlWalletRepository,
)
from bookcore.errors import StorageError, TransientConflict


class SqlAlchemyUnitOfWork:
    """``with uow: ...; uow.commit()``. Each ``with`` checks a connection out of the engine's pool
    and begins a transaction; leaving the block rolls back whatever was not committed and gives
    the connection back. ``committed`` tells whether the last block committed. One thread at a
    time: give each thread its own unit of work (they can share the engine).

    Given a ``Connection`` that is in a transaction instead (the caller's), each block is a
    SAVEPOINT in it: ``commit()`` releases the savepoint, leaving the block rolls back to it, and
    the caller's transaction is never committed nor rolled back here. Work committed that way
    becomes final only when the caller commits: ``after_commit`` callbacks wait for that (and are
    dropped if the caller rolls back), and row locks are held until then. A conflict the database
    resolves by aborting (deadlock, serialization failure) is not retried: it aborted the caller's
    transaction too, which only the caller can run again.
    """

    def __init__(self, engine: Engine | Connection) -> None:
        self._joined: Connection | None = None
        if isinstance(engine, Connection):
            self._joined = engine
            engine = engine.engine
        self.engine = check_engine(engine)
        self.dialect_name = engine.dialect.name
        self.committed = False
        self.can_retry = self._joined is None
        self._connection: Connection | None = None
        self._transaction: Transaction | None = None
        self._pending: list[Callable[[], None]] = []
        if self._joined is not None:
            event.listen(self._joined, "commit", self._caller_committed)
            event.listen(self._joined, "rollback", self._caller_rolled_back)
        self.inventory = SqlInventoryRepository(self)
        self.bookings = SqlBookingRepository(self)
        self.wallets = SqlWalletRepository(self)
        self.payments = SqlPaymentRepository(self)
        self.refunds = SqlRefundRepository(self)
        self.promos = SqlPromoRepository(self)
        self.audit = SqlAuditQueries(self)
        self.events = SqlEventLog(self)

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise StorageError("this unit of work is already in a transaction; use another one")
        self.committed = False
        if self._joined is not None:
            if not self._joined.in_transaction():
                raise StorageError("the connection given to SqlAlchemyUnitOfWork must be in a "
                                   "transaction (connection.begin()); bookcore works inside it")
            self._connection = self._joined
            self._begin(during="transaction")
            return self
        try:
            self._connection = self.engine.connect()
        except SQLAlchemyError as error:
            raise translate(error, during="connect") from error
        try:
            self._begin(during="connect")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        connection, transaction = self._connection, self._transaction
        self._connection = self._transaction = None
        if connection is None:
            return
        if self._joined is not None:
            try:
                if transaction is not None and transaction.is_active:
                    transaction.rollback()
            except SQLAlchemyError:
                pass  # the savepoint died with the caller's transaction, which they will see fail
            return
        try:
            if transaction is not None and transaction.is_active:
                transaction.rollback()
        except SQLAlchemyError:
            connection.invalidate()  # the rollback failed: whatever state it is in, it is not reused
        finally:
            connection.close()  # back to the pool

    def run(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]:
        """Execute ``statement`` in this block's transaction, translating driver errors.

        ``parameters`` may be a list of dicts: the driver's executemany, in the list's order."""
        if self._transaction is None or not self._transaction.is_active:
            self._begin(during="transaction")  # the block goes on after commit() or rollback()
        try:
            return self._current().execute(statement, parameters)
        except SQLAlchemyError as error:
            raise translate(error, during="transaction") from error

    def commit(self) -> None:
        """Commit the work so far; the block may go on, in a new transaction."""
        self._current()
        self._end(commit=True, during="commit")
        self.committed = True

    def rollback(self) -> None:
        """Undo the work since the last commit; the block may go on, in a new transaction."""
        self._current()
        self._end(commit=False, during="transaction")

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the work committed so far is final: now, or, inside a caller's
        transaction, when the caller commits it (never, if they roll it back).

        SQLAlchemy's ``commit`` event runs as the caller's COMMIT is sent; if that COMMIT itself
        then fails, the callbacks have already run (the outbox table never lies: it rolls back)."""
        if self._joined is None:
            callback()
        else:
            self._pending.append(callback)

    def _caller_committed(self, _connection: Connection) -> None:
        pending, self._pending = self._pending, []
        for callback in pending:
            callback()

    def _caller_rolled_back(self, _connection: Connection) -> None:
        self._pending = []

    def _current(self) -> Connection:
        if self._connection is None:
            raise StorageError("the unit of work is used outside `with uow:`")
        if self._connection.invalidated:  # lost mid-transaction: the server rolled it back
            raise TransientConflict("the connection was lost; this transaction is gone")
        return self._connection

    def _begin(self, *, during: During) -> None:
        try:
            connection = self._current()
            self._transaction = connection.begin_nested() if self._joined else connection.begin()
        except SQLAlchemyError as error:
            raise translate(error, during=during) from error

    def _end(self, *, commit: bool, during: During) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None or not transaction.is_active:
            return
        try:
            transaction.commit() if commit else transaction.rollback()
        except SQLAlchemyError as error:
            raise translate(error, during=during) from error
