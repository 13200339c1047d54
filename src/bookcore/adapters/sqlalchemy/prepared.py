"""Hot-path statements compiled once per dialect and run on the transaction's DBAPI cursor.

Holds and payments run a handful of fixed statements thousands of times a second, and SQLAlchemy
Core's per-execution work (cache-key lookup, execution context, parameter and result objects,
event dispatch) cost more than the driver call itself: about 60% of a hold's CPU on SQLite. A
``Prepared`` statement keeps everything that makes Core correct and drops only that per-call work:

- the SQL is SQLAlchemy's own compilation for the engine's dialect (``FOR UPDATE`` dropped on
  SQLite, paramstyle, quoting), done once;
- parameters and results go through the very processors SQLAlchemy would use
  (``TypeEngine.dialect_impl(dialect).bind_processor`` / ``result_processor``), so bookcore's column
  types (exact money, aware UTC) apply unchanged;
- it runs inside the unit of work's transaction, on its pooled connection;
- a driver error is judged by the dialect's own ``is_disconnect``; a lost connection is
  invalidated with the pool (so it never hands it out again), and the error is wrapped with
  ``DBAPIError.instance`` exactly as Core wraps it, then translated as every other error is
  (``driver_failure``). The torture run (connections killed mid-transaction) proves this path.

Anything a plan cannot reproduce faithfully (expanding IN lists, escaped bind names, literal
binds, statements whose compiled form depends on the values) is refused when the plan is built,
and such statements stay on ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.expression import ReturnsRows

from bookcore.adapters.sqlalchemy.errors import During, translate
from bookcore.errors import BookcoreError, StorageError

#: Where a dialect keeps the plans compiled for it. The cache lives on the dialect (one per engine)
#: so that it goes away with the engine: keyed by ``id(dialect)`` elsewhere, a new engine could
#: reuse a dead one's id and be handed SQL compiled for another database.
_PLANS = "_bookcore_prepared_plans"


class Prepared:
    """A statement built once with bind parameters, run through ``Prepared.execute``.

    ``statement`` must not depend on the values bound to it (no IN lists). Plans are cached per
    dialect and per set of parameter names (an INSERT's column list follows its parameters).
    """

    __slots__ = ("statement",)

    def __init__(self, statement: Executable) -> None:
        if not isinstance(statement, ClauseElement):
            raise TypeError("Prepared needs a SQLAlchemy Core statement")
        self.statement = statement

    def execute(self, cursor: Any, pooled: PoolProxiedConnection, engine: Engine,
                parameters: Mapping[str, Any]) -> PreparedResult:
        """Run on ``cursor``, one of ``pooled``'s. The caller owns it: it stays open for the next
        statement, and after an error the caller closes it and uses another."""
        dialect = engine.dialect
        plans: dict[tuple[Prepared, tuple[str, ...]], _Plan] | None = getattr(dialect, _PLANS, None)
        if plans is None:
            plans = {}
            setattr(dialect, _PLANS, plans)
        key = (self, tuple(parameters))
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = _Plan(self.statement, dialect, key[1])
        return plan.execute(cursor, pooled, engine, parameters)


def _fetcher(names: Sequence[str]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """The values of ``names`` from a mapping, in one C call (``itemgetter``), always as a tuple."""
    if len(names) > 1:
        return itemgetter(*names)
    if not names:
        return lambda _parameters: ()
    name = names[0]
    return lambda parameters: (parameters[name],)


class _Plan:
    """One statement's SQL, parameter order and processors for one dialect."""

    __slots__ = ("_columns", "_constants", "_dbapi_error", "_dialect", "_fetch", "_order",
                 "_positional", "_processed", "_readers", "_sql", "_types")

    def __init__(self, statement: ClauseElement, dialect: Dialect, names: tuple[str, ...]) -> None:
        compiled: Any = statement.compile(dialect=dialect, column_keys=list(names))
        if compiled.literal_execute_params or compiled.post_compile_params \
                or compiled.escaped_bind_names:
            raise TypeError("this statement's SQL depends on its values; run it with Connection.execute")
        self._dialect = dialect
        self._sql: str = compiled.string
        self._positional: bool = compiled.positional
        order: Sequence[str] = compiled.positiontup if compiled.positional else compiled.binds
        supplied: list[str] = []
        processed: list[tuple[int, Callable[[Any], Any]]] = []
        constants: list[tuple[int, Any]] = []
        for position, name in enumerate(order):
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in names:
                if process is not None:
                    processed.append((len(supplied), process))
                supplied.append(name)
                continue
            if bind.required or bind.callable is not None:
                raise TypeError(f"no value for bind parameter {name!r}")
            # A constant of the statement (``status = 'held'``): processed once, here.
            constant = bind.effective_value
            constants.append((position, constant if process is None else process(constant)))
        self._order: tuple[str, ...] = tuple(order)
        #: The caller's values, in statement order (a name used twice is fetched twice).
        self._fetch = _fetcher(supplied)
        #: (index among the supplied values, its column type's bind processor)
        self._processed: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(processed)
        #: (index in the statement's parameters, ascending, value), inserted among the supplied
        self._constants: tuple[tuple[int, Any], ...] = tuple(constants)
        # A SELECT's columns, or an UPDATE/INSERT's RETURNING columns (none without RETURNING).
        selected = list(statement.exported_columns) if isinstance(statement, ReturnsRows) else []
        keys = [column.key for column in selected]
        if None in keys:
            raise TypeError("every selected column needs a name (label expressions)")
        self._columns: tuple[str, ...] = tuple(key for key in keys if key is not None)
        self._types = [column.type for column in selected]
        self._readers: tuple[tuple[int, Callable[[Any], Any]], ...] | None = None
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error

    def _parameters(self, parameters: Mapping[str, Any]) -> Any:
        # Only the values whose column type has a processor are touched: most of a booking's
        # twenty have none.
        try:
            values = list(self._fetch(parameters))
            for index, process in self._processed:
                values[index] = process(values[index])
        except BookcoreError:
            raise  # a column type refused the value (naive datetime, float money): as Core would
        except Exception as error:
            raise StorageError("a value could not be bound to the statement",
                               reason=f"{type(error).__name__}: {error}") from error
        for position, constant in self._constants:  # ascending: each lands at its own position
            values.insert(position, constant)
        if self._positional:
            return tuple(values)
        return dict(zip(self._order, values, strict=True))

    def execute(self, cursor: Any, pooled: PoolProxiedConnection, engine: Engine,
                parameters: Mapping[str, Any]) -> PreparedResult:
        values = self._parameters(parameters)
        try:
            cursor.execute(self._sql, values)
            return PreparedResult(cursor.rowcount, self._columns,
                                  self._read(cursor) if self._columns else [])
        except self._dbapi_error as error:
            raise driver_failure(engine, pooled, error, self._sql, values, cursor=cursor,
                                 during="transaction") from error
        except BaseException as error:
            if not isinstance(error, Exception) and pooled.is_valid:
                # Interrupted inside the driver (Ctrl-C, SystemExit): the connection's state is
                # unknown, so it must never be reused. Core does the same.
                pooled.invalidate(error)
            raise

    def _read(self, cursor: Any) -> list[Sequence[Any]]:
        fetched = cursor.fetchall()
        readers = self._readers
        if readers is None:
            # Result processors depend on the driver's type code for each column (PostgreSQL's
            # NUMERIC vs FLOAT OIDs), known only once a result has a description.
            found = (type_.dialect_impl(self._dialect).result_processor(self._dialect, described[1])
                     for type_, described in zip(self._types, cursor.description, strict=True))
            readers = self._readers = tuple(
                (index, read) for index, read in enumerate(found) if read is not None)
        rows: list[Sequence[Any]] = []
        for row in fetched:
            values = list(row)
            for index, read in readers:
                values[index] = read(values[index])
            rows.append(values)
        return rows



def driver_failure(engine: Engine, pooled: PoolProxiedConnection | None, error: Exception,
                   statement: str | None, parameters: Any, *, during: During,
                   cursor: Any = None) -> Exception:
    """What Core does with a driver error (``Connection._handle_dbapi_exception``): judge it with
    the dialect's ``is_disconnect``; on a lost connection, replace every connection opened before
    now on its next checkout (a restarted server dropped them all; the pool has no public
    spelling of this) and discard this one; wrap it as Core would; then translate it."""
    dialect = engine.dialect
    lost = dialect.is_disconnect(error, pooled, cursor)  # type: ignore[arg-type]
    if lost and pooled is not None and pooled.is_valid:
        engine.pool._invalidate(pooled, error)
    wrapped = DBAPIError.instance(statement, parameters, error, dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost, dialect=dialect)
    return translate(wrapped, during=during)


class PreparedResult:
    """The part of SQLAlchemy's ``Result`` the repositories use, over rows already read."""

    __slots__ = ("_columns", "_rows", "rowcount")

    def __init__(self, rowcount: int, columns: tuple[str, ...], rows: list[Sequence[Any]]) -> None:
        self.rowcount = rowcount
        self._columns = columns
        self._rows = rows

    def mappings(self) -> PreparedResult:
        return self

    def first(self) -> dict[str, Any] | None:
        """The first row as a mapping: what ``Result.mappings().first()`` gives, the only way the
        repositories read a row."""
        return dict(zip(self._columns, self._rows[0], strict=True)) if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None
