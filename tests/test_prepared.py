"""Prepared statements (the hot path on the DBAPI cursor) behave exactly as SQLAlchemy Core does:
same values in and out through bookcore's column types, same error translation, and a lost
connection is invalidated, on SQLite and (when their URLs are set) PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import Integer, bindparam, event, insert, select, text, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.types import TypeDecorator

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from bookcore.adapters.sqlalchemy.column_types import Money, UTCDateTime
from bookcore.adapters.sqlalchemy.prepared import Prepared
from bookcore.adapters.sqlalchemy.tables import bookings, inventory_items, wallet_accounts
from bookcore.errors import AlreadyExists, InvalidAmount, InvalidInput, StorageError, TransientConflict
from tests.backends import fresh_engine
from tests.test_sqlalchemy_adapter import _kill_and_wait, session_query

STARTS = datetime(2026, 3, 1, 18, 30, 15, 123456, tzinfo=UTC)

_ITEM_WITH_WALLET = (
    select(inventory_items, wallet_accounts.c.balance.label("wallet_balance"))
    .select_from(inventory_items.outerjoin(
        wallet_accounts, wallet_accounts.c.customer_id == bindparam("customer_id")))
    .where(inventory_items.c.id == bindparam("item_id")))
_TAKE = (update(inventory_items)
         .where(inventory_items.c.id == bindparam("item_id"),
                inventory_items.c.available >= bindparam("quantity"))
         .values(available=inventory_items.c.available - bindparam("quantity")))


_TAKE_PREPARED = Prepared(_TAKE)


class _Exploding(TypeDecorator[int]):
    """A column type whose bind step fails with something other than a bookcore error."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int:
        raise ValueError("cannot bind this")


def _item(item_id: str, *, starts_at: datetime | None = STARTS, price: str = "1234.567") -> dict[str, Any]:
    return {"id": item_id, "name": f"Item {item_id} ✓", "capacity": 5, "available": 5,
            "unit_price": Decimal(price), "currency": "KWD", "starts_at": starts_at}


def _run(engine: Engine, statement: Any, parameters: dict[str, Any]) -> Any:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        result = uow.run(statement, parameters)
        uow.commit()
    return result


def test_values_round_trip_exactly_as_through_core(engine: Engine) -> None:
    prepared_insert = Prepared(insert(inventory_items))
    _run(engine, prepared_insert, _item("prepared"))
    _run(engine, insert(inventory_items), _item("core", starts_at=None, price="0.001"))
    with engine.begin() as connection:
        connection.execute(insert(wallet_accounts), {"customer_id": "asha", "currency": "KWD",
                                                     "balance": Decimal("12.345")})
    prepared_select = Prepared(_ITEM_WITH_WALLET)
    for item_id in ("prepared", "core"):
        parameters = {"item_id": item_id, "customer_id": "asha"}
        fast = _run(engine, prepared_select, parameters).mappings().first()
        with engine.connect() as connection:
            core = dict(connection.execute(_ITEM_WITH_WALLET, parameters).mappings().one())
        assert fast == core
        assert type(fast["unit_price"]) is Decimal
    assert fast["starts_at"] is None
    first = _run(engine, prepared_select, {"item_id": "prepared", "customer_id": "asha"}).mappings().first()
    assert first["starts_at"] == STARTS and first["starts_at"].tzinfo is UTC
    assert first["unit_price"] == Decimal("1234.567") and first["wallet_balance"] == Decimal("12.345")
    assert first["name"] == "Item prepared ✓"


_DIALECTS = (sqlite.dialect(), postgresql.psycopg.dialect(), mysql.pymysql.dialect())  # type: ignore[no-untyped-call]


@given(moment=st.datetimes(timezones=st.timezones()))
def test_sqlite_timestamps_are_written_exactly_as_sqlalchemy_writes_them(moment: datetime) -> None:
    # Stored timestamps compare as text in SQLite (expires_at <= now), so the fast formatter must
    # agree with SQLAlchemy's character for character, or old and new rows would sort apart.
    dialect = sqlite.dialect()
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    core = sqlite.DATETIME().bind_processor(dialect)  # type: ignore[no-untyped-call]
    assert fast is not None and core is not None
    assume(moment.tzinfo is not None and moment.utcoffset() is not None)
    try:
        naive = moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        with pytest.raises(OverflowError):
            fast(moment)
        return
    assert fast(moment) == core(naive)
    assert fast(None) is None
    with pytest.raises(InvalidInput):
        fast(naive)


def _binds_as_its_full_check(fast: Callable[[Any], Any], full: Callable[[], Any], value: Any, *,
                             refusals: tuple[type[Exception], ...]) -> Any:
    """``fast(value)`` gives what the full check gives, of the same type, or refuses as it does."""
    try:
        expected = full()
    except refusals as error:
        with pytest.raises(type(error)):
            fast(value)
        return None
    bound = fast(value)
    assert bound == expected and type(bound) is type(expected)
    return bound


_ANY_MOMENT = st.one_of(st.datetimes(timezones=st.timezones()), st.datetimes(),
                        st.datetimes(timezones=st.just(UTC)), st.text(max_size=5), st.none())


@pytest.mark.parametrize("dialect", _DIALECTS[1:], ids=lambda dialect: dialect.name)
@given(value=_ANY_MOMENT)
def test_server_timestamps_bind_exactly_as_their_full_check_does(dialect: Dialect, value: Any) -> None:
    # The servers' fast path skips the checks for aware UTC datetimes; whatever it is given, it
    # must bind what UTCDateTime.process_bind_param binds, or refuse with the same error.
    fast = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert fast is not None
    bound = _binds_as_its_full_check(fast, lambda: UTCDateTime().process_bind_param(value, dialect),
                                     value, refusals=(InvalidInput, OverflowError))
    assert bound is None or bound.tzinfo is None


_ANY_MONEY_VALUE = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(places=3, min_value=-10**15, max_value=10**15),
    st.builds(lambda digits, exponent: Decimal(digits).scaleb(exponent),
              st.integers(-10**20, 10**20), st.integers(-8, 8)),
    st.integers(-10**18, 10**18), st.booleans(), st.floats(), st.text(max_size=5), st.none())


@pytest.mark.parametrize("dialect", _DIALECTS, ids=lambda dialect: dialect.name)
@given(value=_ANY_MONEY_VALUE)
def test_money_binds_exactly_as_its_full_check_does(dialect: Dialect, value: Any) -> None:
    # The fast path skips the checks for plain finite Decimals; whatever it is given, it must
    # store what Money.process_bind_param stores (thousandths on SQLite, the Decimal elsewhere),
    # or refuse with the same error.
    fast = Money().dialect_impl(dialect).bind_processor(dialect)
    assert fast is not None
    _binds_as_its_full_check(fast, lambda: Money().process_bind_param(value, dialect), value,
                             refusals=(InvalidAmount,))


def test_a_missing_row_reads_as_none(engine: Engine) -> None:
    result = _run(engine, Prepared(_ITEM_WITH_WALLET), {"item_id": "nope", "customer_id": "asha"})
    assert result.mappings().first() is None
    assert result.scalar() is None


def test_rowcount_says_whether_a_conditional_update_matched(engine: Engine) -> None:
    _run(engine, insert(inventory_items), _item("room"))
    take = Prepared(_TAKE)
    assert _run(engine, take, {"item_id": "room", "quantity": 4}).rowcount == 1
    assert _run(engine, take, {"item_id": "room", "quantity": 2}).rowcount == 0
    with engine.connect() as connection:
        available = connection.execute(select(inventory_items.c.available)).scalar_one()
    assert available == 1


def test_constants_repeated_and_lone_parameters_each_bind_in_their_place(engine: Engine) -> None:
    # A statement's constants sit between the caller's values; a name used twice is bound twice
    # (positional drivers); a lone parameter, and none at all, bind as well.
    for item_id in ("a", "b", "c"):
        _run(engine, insert(inventory_items), _item(item_id))
    take_in_kwd = (update(inventory_items)
                   .where(inventory_items.c.currency == "KWD", inventory_items.c.id == bindparam("item_id"),
                          inventory_items.c.available >= bindparam("quantity"),
                          inventory_items.c.name != "sold out")
                   .values(available=inventory_items.c.available - bindparam("quantity")))
    assert _run(engine, Prepared(take_in_kwd), {"item_id": "b", "quantity": 3}).rowcount == 1
    assert _run(engine, Prepared(take_in_kwd), {"quantity": 3, "item_id": "b"}).rowcount == 0
    lone = select(inventory_items.c.available).where(inventory_items.c.id == bindparam("item_id"))
    assert _run(engine, Prepared(lone), {"item_id": "b"}).scalar() == 2
    none = (select(inventory_items.c.id).where(inventory_items.c.available == 5)
            .order_by(inventory_items.c.id.desc()))
    assert _run(engine, Prepared(none), {}).scalar() == "c"
    with pytest.raises(TypeError, match="no value for bind parameter 'quantity'"):
        _run(engine, Prepared(take_in_kwd), {"item_id": "b"})  # a plan is refused, not guessed


def test_column_types_refuse_bad_values_with_the_same_typed_errors(engine: Engine) -> None:
    prepared = Prepared(insert(inventory_items))
    with pytest.raises(InvalidInput, match="timezone-aware"):
        _run(engine, prepared, _item("naive", starts_at=datetime(2026, 1, 1)))
    with pytest.raises(InvalidAmount):
        _run(engine, prepared, {**_item("float"), "unit_price": 12.5})
    with pytest.raises(InvalidInput, match="timezone-aware"):
        _run(engine, prepared, {**_item("not-a-date"), "starts_at": "2026-01-01"})
    exploding = select(inventory_items.c.id).where(
        inventory_items.c.capacity == bindparam("capacity", type_=_Exploding()))
    with pytest.raises(StorageError, match="could not be bound"):
        _run(engine, Prepared(exploding), {"capacity": 1})
    with engine.connect() as connection:
        assert connection.execute(select(inventory_items.c.id)).all() == []


def test_driver_errors_are_translated_as_core_translates_them(engine: Engine) -> None:
    prepared = Prepared(insert(inventory_items))
    _run(engine, prepared, _item("room"))
    with pytest.raises(AlreadyExists):
        _run(engine, prepared, _item("room"))
    with pytest.raises(StorageError, match="constraint"):
        _run(engine, Prepared(insert(bookings)), {
            "id": "b1", "item_id": "no-such-item", "customer_id": "c", "quantity": 1,
            "status": "held", "pricing": "{}", "promo_code": None, "total_amount": Decimal(1),
            "wallet_applied": Decimal(0), "gateway_payable": Decimal(1), "currency": "KWD",
            "reserved_at": STARTS, "expires_at": STARTS + timedelta(minutes=10), "confirmed_at": None,
            "expired_at": None, "cancelled_at": None})


def test_the_transaction_still_rolls_back_as_a_whole(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.run(Prepared(insert(inventory_items)), _item("room"))
        # no commit: leaving the block rolls back what the prepared statement wrote
    with engine.connect() as connection:
        assert connection.execute(select(inventory_items.c.id)).all() == []


def test_one_unit_of_work_goes_on_after_failed_statements(engine: Engine) -> None:
    # Its prepared statements share a cursor; a statement that fails (in binding or in the
    # database) must leave the next ones, in this block or the next, unaffected.
    uow, insert_item = SqlAlchemyUnitOfWork(engine), Prepared(insert(inventory_items))
    with uow:
        uow.run(insert_item, _item("a"))
        with pytest.raises(InvalidAmount):
            uow.run(insert_item, {**_item("float"), "unit_price": 12.5})
        uow.run(insert_item, _item("b"))
        uow.commit()
    with uow, pytest.raises(AlreadyExists):
        uow.run(insert_item, _item("a"))
    with uow:
        assert uow.run(_TAKE_PREPARED, {"item_id": "b", "quantity": 2}).rowcount == 1
        uow.commit()
    with uow:
        assert uow.run(Prepared(select(inventory_items.c.available).where(
            inventory_items.c.id == bindparam("item_id"))), {"item_id": "b"}).scalar() == 3
    with engine.connect() as connection:
        assert connection.execute(select(inventory_items.c.id).order_by(inventory_items.c.id)
                                  ).scalars().all() == ["a", "b"]


def test_statements_whose_sql_depends_on_their_values_are_refused(engine: Engine) -> None:
    in_list = select(inventory_items).where(inventory_items.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(TypeError, match="depends on its values"):
        _run(engine, Prepared(in_list), {"ids": ["a", "b"]})
    with pytest.raises(TypeError, match="no value"):
        _run(engine, Prepared(_TAKE), {"item_id": "room"})


def _session_id(uow: SqlAlchemyUnitOfWork) -> int:
    return int(uow.run(text(session_query(uow.dialect_name))).scalar())


def test_a_connection_killed_under_a_prepared_statement_is_discarded(server_engine: Engine) -> None:
    """Killed mid-transaction: the statement raises TransientConflict (nothing was committed, the
    caller may run it again), the connection never returns to the pool, and the next unit of work
    gets a working one."""
    _run(server_engine, insert(inventory_items), _item("room"))
    uow, take = SqlAlchemyUnitOfWork(server_engine), Prepared(_TAKE)
    with uow:
        session = _session_id(uow)
        _kill_and_wait(server_engine, [session])
        with pytest.raises(TransientConflict, match="connection lost"):
            uow.run(take, {"item_id": "room", "quantity": 1})
    with uow:
        assert _session_id(uow) != session
        assert uow.run(take, {"item_id": "room", "quantity": 1}).rowcount == 1
        uow.commit()
    with server_engine.connect() as connection:
        assert connection.execute(select(inventory_items.c.available)).scalar_one() == 4


def test_holds_and_payments_run_only_prepared_statements(tmp_path: Path) -> None:
    """The hot path never falls back to Connection.execute (whose statement events would fire)."""
    from bookcore import (
        SystemClock,
        add_inventory_item,
        credit_wallet,
        finalize_payment,
        place_hold,
    )

    engine = fresh_engine("sqlite", tmp_path)
    uow, clock = SqlAlchemyUnitOfWork(engine), SystemClock()
    add_inventory_item(uow, item_id="room", name="Room", capacity=5, unit_price="1000.00", currency="INR")
    credit_wallet(uow, customer_id="asha", amount="300.00", currency="INR", reason="top-up", clock=clock)
    through_core: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_rest: through_core.append(statement))
    booking = place_hold(uow, item_id="room", customer_id="asha", quantity=1, clock=clock).booking
    paid = finalize_payment(uow, booking_id=booking.id, idempotency_key="k1",
                            gateway_amount=booking.pricing.gateway_payable, currency="INR", clock=clock)
    assert paid.confirmed
    assert through_core == []
    with engine.connect() as connection:  # the listener does see Core statements
        connection.execute(select(inventory_items.c.id))
    assert len(through_core) == 1


def test_one_statement_serves_engines_of_different_databases(engine: Engine, tmp_path: Path) -> None:
    """Plans belong to each engine's dialect: the same statement alternates between a server and
    an SQLite file (and would between any two), each getting SQL compiled for it."""
    (tmp_path / "other").mkdir()
    other = fresh_engine("sqlite", tmp_path / "other")
    take = Prepared(_TAKE)
    for target in (engine, other):
        _run(target, insert(inventory_items), _item("room"))
    for _ in range(2):
        for target in (engine, other, engine):
            assert _run(target, take, {"item_id": "room", "quantity": 1}).rowcount == 1
    for target, left in ((engine, 1), (other, 3)):
        with target.connect() as connection:
            assert connection.execute(select(inventory_items.c.available)).scalar_one() == left
