"""``DjangoUnitOfWork``: bookcore's services on Django's connection, inside Django's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bookcore.adapters.sqlalchemy.errors import During, translate
from bookcore.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from bookcore.contrib.django.connection import engine_for
from bookcore.contrib.django.events import NotingEventLog
from bookcore.contrib.django.signals import send_events
from bookcore.errors import StorageError
from bookcore.logs import Event
from bookcore.ports import (
    AuditQueries,
    BookingRepository,
    InventoryRepository,
    PaymentRepository,
    PromoRepository,
    RefundRepository,
    WalletRepository,
)


class DjangoUnitOfWork:
    """A unit of work on Django's connection for ``using`` (default ``"default"``).

    Inside ``transaction.atomic()`` each service call is a SAVEPOINT in the caller's transaction,
    as with a caller's SQLAlchemy ``Connection``: a refusal rolls back only that savepoint, row
    locks are held until Django commits, and events (the ``bookcore`` log lines and the
    ``event_committed`` signal) are delivered by ``transaction.on_commit``, never for work rolled
    back. Outside ``atomic()`` each block opens an ``atomic()`` of its own and commits it, and
    conflicts the database resolved by aborting (deadlocks) are retried as usual. One thread at a
    time, as Django's connections are.
    """

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using
        self.committed = False
        self._work: SqlAlchemyUnitOfWork | None = None
        self._connection: Connection | None = None
        self._atomic: transaction.Atomic | None = None
        self._events: NotingEventLog | None = None
        self._appended: list[Event] = []
        self._released: list[Event] = []

    @property
    def can_retry(self) -> bool:
        """Only a block that is its own transaction can run again; a caller's cannot."""
        return not connections[self.using].in_atomic_block

    def __enter__(self) -> Self:
        if self._work is not None:
            raise StorageError("this unit of work is already in a transaction; use another one")
        self.committed = False
        self._appended, self._released = [], []
        if not connections[self.using].in_atomic_block:
            atomic = transaction.atomic(using=self.using)
            with django_errors(self.using, during="connect"):
                atomic.__enter__()
            self._atomic = atomic
        try:
            self._connection = engine_for(self.using).connect()
            self._connection.begin()  # SQLAlchemy's view of Django's transaction, never ended here
            self._work = SqlAlchemyUnitOfWork(self._connection).__enter__()
        except BaseException as error:
            self._close(type(error), error, error.__traceback__)
            if isinstance(error, SQLAlchemyError):
                raise translate(error, during="connect") from error
            raise
        self._events = NotingEventLog(self._work.events, self._appended.extend)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._close(exc_type, exc, tb)

    def _close(self, exc_type: type[BaseException] | None, exc: BaseException | None,
               tb: TracebackType | None) -> None:
        work, connection, atomic = self._work, self._connection, self._atomic
        self._work = self._connection = self._atomic = self._events = None
        try:
            if work is not None:
                work.__exit__(exc_type, exc, tb)  # rolls back to its savepoint unless committed
        finally:
            if connection is not None:
                connection.close()  # its rollback and close are no-ops on Django's connection
            if atomic is not None:
                with django_errors(self.using, during="commit"):
                    atomic.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._current().commit()
        self._released += self._appended
        self._appended.clear()
        self.committed = True

    def rollback(self) -> None:
        self._current().rollback()
        self._appended.clear()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` and send the committed events as signals when Django commits: at once
        outside ``atomic()``, never if the transaction (or an enclosing savepoint) rolls back."""
        events, self._released = self._released, []

        def deliver() -> None:
            callback()
            send_events(DjangoUnitOfWork, events)

        transaction.on_commit(deliver, using=self.using, robust=True)

    def _current(self) -> SqlAlchemyUnitOfWork:
        if self._work is None:
            raise StorageError("the unit of work is used outside `with uow:`")
        return self._work

    @property
    def inventory(self) -> InventoryRepository:
        return self._current().inventory

    @property
    def bookings(self) -> BookingRepository:
        return self._current().bookings

    @property
    def wallets(self) -> WalletRepository:
        return self._current().wallets

    @property
    def payments(self) -> PaymentRepository:
        return self._current().payments

    @property
    def refunds(self) -> RefundRepository:
        return self._current().refunds

    @property
    def promos(self) -> PromoRepository:
        return self._current().promos

    @property
    def audit(self) -> AuditQueries:
        return self._current().audit

    @property
    def events(self) -> NotingEventLog:
        if self._events is None:
            raise StorageError("the unit of work is used outside `with uow:`")
        return self._events


@contextmanager
def django_errors(alias: str, *, during: During) -> Iterator[None]:
    """A database error Django raised (its own wrapper around the driver's) as bookcore's."""
    try:
        yield
    except DatabaseError as error:
        dbapi_error = engine_for(alias).dialect.loaded_dbapi.Error
        cause = error.__cause__
        if isinstance(cause, dbapi_error):
            raise translate(DBAPIError.instance(None, None, cause, dbapi_error), during=during) from error
        raise StorageError("database error", reason=str(error)) from error
