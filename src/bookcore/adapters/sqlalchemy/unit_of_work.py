"""The SQLAlchemy unit of work: one ``Connection`` from the engine's pool, one transaction on it,
rolled back unless committed. Every statement runs through that ``Connection``, so engine events,
``echo`` and instrumentation (OpenTelemetry, Sentry) see all of them."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy import Executable
from sqlalchemy.engine import Connection, CursorResult, Engine, RootTransaction
from sqlalchemy.exc import SQLAlchemyError

from bookcore.adapters.sqlalchemy.audit_queries import SqlAuditQueries
from bookcore.adapters.sqlalchemy.bookings import SqlBookingRepository
from bookcore.adapters.sqlalchemy.engine import check_engine
from bookcore.adapters.sqlalchemy.errors import During, translate
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
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = check_engine(engine)
        self.dialect_name = engine.dialect.name
        self.committed = False
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self.inventory = SqlInventoryRepository(self)
        self.bookings = SqlBookingRepository(self)
        self.wallets = SqlWalletRepository(self)
        self.payments = SqlPaymentRepository(self)
        self.refunds = SqlRefundRepository(self)
        self.promos = SqlPromoRepository(self)
        self.audit = SqlAuditQueries(self)

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise StorageError("this unit of work is already in a transaction; use another one")
        self.committed = False
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

    def _current(self) -> Connection:
        if self._connection is None:
            raise StorageError("the unit of work is used outside `with uow:`")
        if self._connection.invalidated:  # lost mid-transaction: the server rolled it back
            raise TransientConflict("the connection was lost; this transaction is gone")
        return self._connection

    def _begin(self, *, during: During) -> None:
        try:
            self._transaction = self._current().begin()
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
