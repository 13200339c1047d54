"""The SQLAlchemy unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy import Executable
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bookcore.adapters.sqlalchemy.audit_queries import SqlAuditQueries
from bookcore.adapters.sqlalchemy.bookings import SqlBookingRepository
from bookcore.adapters.sqlalchemy.errors import translate
from bookcore.adapters.sqlalchemy.prepared import Prepared
from bookcore.adapters.sqlalchemy.repositories import (
    SqlInventoryRepository,
    SqlPaymentRepository,
    SqlPromoRepository,
    SqlRefundRepository,
    SqlWalletRepository,
)
from bookcore.errors import StorageError


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
        self.committed = False
        self._connection: Connection | None = None
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
        connection = None
        try:
            connection = self.engine.connect()
            connection.begin()
        except SQLAlchemyError as error:
            if connection is not None:
                connection.close()
            raise translate(error, during="connect") from error
        self._connection = connection
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.rollback()  # a no-op after commit()
        except SQLAlchemyError:
            pass  # the connection is gone, and with it the transaction; there is nothing to undo
        finally:
            connection.close()

    def run(self, statement: Executable | Prepared, parameters: Any = None) -> Any:
        if isinstance(statement, Prepared):  # translates its own errors
            return statement.execute(self._current(), parameters or {})
        try:
            return self._current().execute(statement, parameters)
        except SQLAlchemyError as error:
            raise translate(error, during="transaction") from error

    def commit(self) -> None:
        """Commit the work so far; the block may go on, in a new transaction."""
        try:
            self._current().commit()
        except SQLAlchemyError as error:
            raise translate(error, during="commit") from error
        self.committed = True

    def rollback(self) -> None:
        """Undo the work since the last commit; the block may go on, in a new transaction."""
        try:
            self._current().rollback()
        except SQLAlchemyError as error:
            raise translate(error, during="transaction") from error

    def _current(self) -> Connection:
        if self._connection is None:
            raise StorageError("the unit of work is used outside `with uow:`")
        return self._connection
