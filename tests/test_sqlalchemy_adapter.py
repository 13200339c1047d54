"""What the SQL adapter adds to the behaviour suite: its types, migrations, transactions, locks and
error translation, on SQLite and (when their URLs are set) PostgreSQL and MariaDB."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import StatementError
from sqlalchemy.pool import NullPool

from bookcore.adapters.sqlalchemy import (
    SqlAlchemyUnitOfWork,
    create_engine_for,
    current_revision,
    head_revision,
    migrate,
)
from bookcore.adapters.sqlalchemy.migrate import VERSION_TABLE
from bookcore.adapters.sqlalchemy.tables import inventory_items, metadata
from bookcore.errors import (
    AlreadyExists,
    BookcoreError,
    DatabaseUnavailable,
    IdempotencyConflict,
    InvalidAmount,
    InvalidInput,
    SchemaNotMigrated,
    StorageError,
    TransientConflict,
)
from bookcore.model import (
    Booking,
    BookingStatus,
    ExpiredHold,
    InventoryItem,
    Payment,
    PaymentOutcome,
    WalletEntry,
    WalletEntryKind,
)
from bookcore.pricing import calculate_pricing
from bookcore.promos import PromoCode, PromoKind
from tests.backends import fresh_engine, server_url
from tests.conftest import SQL_BACKENDS, START

UNREACHABLE = {"sqlite": "sqlite:////nonexistent-bookcore-dir/missing/bookcore.db",
               "postgres": "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",
               "mariadb": "mysql+pymysql://root@127.0.0.1:1/test?connect_timeout=2"}


def item(item_id: str = "room", *, capacity: int = 5, price: str = "1000.00", currency: str = "INR",
         starts_at: datetime | None = None) -> InventoryItem:
    return InventoryItem(id=item_id, name=f"item {item_id}", capacity=capacity, available=capacity,
                         unit_price=Decimal(price), currency=currency, starts_at=starts_at)


def booking(booking_id: str, *, item_id: str = "room", expires_at: datetime | None = None,
            customer: str = "alice", quantity: int = 1) -> Booking:
    pricing = calculate_pricing(unit_price=Decimal("1000.00"), quantity=quantity, currency="INR",
                                now=START)
    return Booking(id=booking_id, item_id=item_id, customer_id=customer, quantity=quantity,
                   status=BookingStatus.HELD, pricing=pricing, reserved_at=START,
                   expires_at=expires_at or START + timedelta(minutes=10))


def payment(payment_id: str, key: str, booking_id: str = "b1") -> Payment:
    return Payment(id=payment_id, booking_id=booking_id, idempotency_key=key, fingerprint="f",
                   currency="INR", wallet_amount=Decimal("0.00"), gateway_amount=Decimal("1000.00"),
                   gateway_reference=None, outcome=PaymentOutcome.CONFIRMED, reason=None,
                   created_at=START)


def entry(entry_id: str, kind: WalletEntryKind, amount: str, *, currency: str = "INR",
          customer: str = "alice") -> WalletEntry:
    return WalletEntry(id=entry_id, customer_id=customer, currency=currency, kind=kind,
                       amount=Decimal(amount), reason="test", booking_id=None, created_at=START)


def seed(engine: Engine, *, items: Iterable[InventoryItem] = (), bookings: Iterable[Booking] = (),
         payments: Iterable[Payment] = (), entries: Iterable[WalletEntry] = ()) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        for new_item in items:
            uow.inventory.add(new_item)
        for new_booking in bookings:
            uow.bookings.add(new_booking)
        for new_payment in payments:
            uow.payments.add(new_payment)
        for new_entry in entries:
            assert uow.wallets.append(new_entry)
        uow.commit()


def stored(engine: Engine, work: Callable[[SqlAlchemyUnitOfWork], Any]) -> Any:
    """Run ``work`` in a committed transaction and return what it returned."""
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        result = work(uow)
        uow.commit()
    return result


# ---- types: time and money ----------------------------------------------------------------------

def test_naive_datetime_is_refused_on_write_and_nothing_is_stored(engine: Engine) -> None:
    naive = InventoryItem.trusted(id="room", name="room", capacity=1, available=1,
                                  unit_price=Decimal("1.00"), currency="INR",
                                  starts_at=datetime(2026, 3, 1, 12, 0))
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(InvalidInput, match="timezone-aware"):
        uow.inventory.add(naive)
    with uow, pytest.raises(InvalidInput):
        uow.bookings.count_lapsed(datetime(2026, 3, 1, 12, 0))
    with uow:
        assert uow.inventory.get("room") is None


def test_datetimes_come_back_aware_utc_with_microseconds(engine: Engine) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    starts_at = datetime(2026, 3, 1, 18, 0, 5, 123456, tzinfo=india)
    seed(engine, items=[item(starts_at=starts_at)])
    read = stored(engine, lambda uow: uow.inventory.get("room"))
    assert read.starts_at == starts_at
    assert read.starts_at.tzinfo is UTC
    assert read.starts_at.isoformat() == "2026-03-01T12:30:05.123456+00:00"


@pytest.mark.parametrize(("currency", "price", "exponent"), [
    ("JPY", "1500", 0), ("INR", "10.50", -2), ("KWD", "1.250", -3), ("KWD", "999999999999.999", -3),
])
def test_money_comes_back_with_the_currency_exponent(engine: Engine, currency: str, price: str,
                                                     exponent: int) -> None:
    seed(engine, items=[item(price=price, currency=currency)],
         entries=[entry("e1", WalletEntryKind.CREDIT, price, currency=currency)])
    read, balance, ledger, totals = stored(engine, lambda uow: (
        uow.inventory.get("room"), uow.wallets.balance("alice", currency),
        uow.wallets.entries("alice", currency), uow.audit.wallet_totals()))
    for amount in (read.unit_price, balance, ledger[0].amount, totals[0].balance, totals[0].ledger_sum):
        assert amount == Decimal(price)
        assert amount.as_tuple().exponent == exponent


def test_wallet_arithmetic_is_exact(engine: Engine) -> None:
    # On a float column 0.3 - 0.1 - 0.2 is not 0, and the last debit would be refused.
    moves = [("e1", WalletEntryKind.CREDIT, "0.30"), ("e2", WalletEntryKind.DEBIT, "0.10"),
             ("e3", WalletEntryKind.DEBIT, "0.20")]
    results = stored(engine, lambda uow: [uow.wallets.append(entry(*move)) for move in moves])
    assert results == [True, True, True]
    assert stored(engine, lambda uow: uow.wallets.balance("alice", "INR")) == Decimal("0.00")
    assert not stored(engine, lambda uow: uow.wallets.append(entry("e4", WalletEntryKind.DEBIT, "0.01")))
    assert len(stored(engine, lambda uow: uow.wallets.entries("alice", "INR"))) == 3


def test_a_debit_on_an_account_that_does_not_exist_changes_nothing(engine: Engine) -> None:
    assert not stored(engine, lambda uow: uow.wallets.append(entry("e1", WalletEntryKind.DEBIT, "1.00")))
    assert stored(engine, lambda uow: (uow.wallets.balance("alice", "INR"),
                                       list(uow.wallets.entries("alice", "INR")),
                                       list(uow.audit.wallet_totals()))) == (Decimal(0), [], [])


def test_the_ledger_lists_entries_in_the_order_they_were_appended(engine: Engine) -> None:
    # One instant, and ids that sort the other way round: only the append order is left.
    moves = [("z-credit", WalletEntryKind.CREDIT, "5.00"), ("m-debit", WalletEntryKind.DEBIT, "2.00"),
             ("a-credit", WalletEntryKind.CREDIT, "1.00")]
    seed(engine, entries=[entry(*move) for move in moves])
    ledger = stored(engine, lambda uow: uow.wallets.entries("alice", "INR"))
    assert [e.id for e in ledger] == ["z-credit", "m-debit", "a-credit"]


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@pytest.mark.parametrize("amount", [Decimal("1.0005"), 1.5])
def test_money_that_cannot_be_stored_exactly_is_refused(engine: Engine, amount: object) -> None:
    bad = InventoryItem.trusted(id="room", name="room", capacity=1, available=1, unit_price=amount,
                                currency="KWD", starts_at=None)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(InvalidAmount):
        uow.inventory.add(bad)


def test_ids_are_case_sensitive_and_sorted_by_code_point(engine: Engine) -> None:
    ids = ["b", "B", "a", "A", "_", "é", "Z9"]
    seed(engine, items=[item(item_id) for item_id in ids],
         entries=[entry(f"e-{c}", WalletEntryKind.CREDIT, "5.00", customer=c) for c in ("alice", "Alice")])
    listed = stored(engine, lambda uow: [i.id for i in uow.inventory.list()])
    assert listed == sorted(ids)
    assert stored(engine, lambda uow: uow.wallets.balance("Alice", "INR")) == Decimal("5.00")


# ---- migrations ---------------------------------------------------------------------------------

def test_migrate_is_idempotent_and_creates_exactly_the_declared_schema(engine: Engine) -> None:
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "version_table": VERSION_TABLE})
        assert compare_metadata(context, metadata) == []


def test_migrate_brings_an_empty_database_to_head(unmigrated: Engine) -> None:
    assert current_revision(unmigrated) is None
    try:
        migrate(unmigrated)
        assert current_revision(unmigrated) == head_revision()
        assert stored(unmigrated, lambda uow: uow.inventory.list()) == []
    finally:
        _drop_everything(unmigrated)


def test_several_processes_and_threads_migrating_at_once_all_succeed(unmigrated: Engine) -> None:
    # Every instance of an app runs migrate() on deploy; they queue on a lock, one does the work.
    # Threads too: a threaded server may migrate from several workers of one process.
    failures: list[BaseException] = []
    url = unmigrated.url.render_as_string(hide_password=False)
    script = ("import sys; from bookcore import create_engine_for, migrate; "
              "engine = create_engine_for(sys.argv[1]); migrate(engine); engine.dispose()")

    def run() -> None:
        try:
            migrate(unmigrated)
        except BaseException as error:  # collected, then asserted on in the main thread
            failures.append(error)

    try:
        processes = [subprocess.Popen([sys.executable, "-c", script, url], stderr=subprocess.PIPE,
                                      text=True) for _ in range(3)]
        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        errors = [process.communicate(timeout=120)[1] for process in processes]
        assert failures == []
        assert [process.returncode for process in processes] == [0, 0, 0], errors
        assert current_revision(unmigrated) == head_revision()
    finally:
        _drop_everything(unmigrated)


def test_an_unmigrated_database_raises_schema_not_migrated(unmigrated: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(unmigrated)
    with uow, pytest.raises(SchemaNotMigrated, match="bookcore db upgrade"):
        uow.inventory.get("room")
    assert current_revision(unmigrated) is None


@pytest.fixture(params=SQL_BACKENDS)
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a new SQLite file, or a database of its own on the server."""
    if request.param == "sqlite":
        engine = create_engine_for(f"sqlite:///{tmp_path / 'empty.db'}")
    else:
        engine = create_engine_for(_own_database(server_url(request.param), "_unmigrated"))
        _drop_everything(engine)
    yield engine
    engine.dispose()


def _own_database(server: str, suffix: str) -> str:
    url = make_url(server)
    name = f"{url.database}{suffix}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            if admin.dialect.name == "postgresql":
                exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                            {"n": name}).first()
                if not exists:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                connection.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}`"))
    except Exception as error:  # a server that was asked for must be there
        pytest.fail(f"{server} is set but unreachable: {error}")
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_everything(engine: Engine) -> None:
    with engine.begin() as connection:
        metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS bookcore_alembic_version"))
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


# ---- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mariadb"])
def test_an_unreachable_database_raises_database_unavailable(kind: str) -> None:
    engine = create_engine_for(UNREACHABLE[kind])
    uow = SqlAlchemyUnitOfWork(engine)
    with pytest.raises(DatabaseUnavailable) as raised, uow:
        pytest.fail("entered a unit of work on an unreachable database")  # pragma: no cover
    assert raised.value.__cause__ is not None
    with pytest.raises(DatabaseUnavailable):
        migrate(engine)
    with pytest.raises(DatabaseUnavailable):
        current_revision(engine)
    with pytest.raises(DatabaseUnavailable), uow:  # a failed enter leaves nothing half-open
        pytest.fail("entered a unit of work on an unreachable database")  # pragma: no cover
    engine.dispose()


def test_a_bad_url_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        create_engine_for("not a url")
    with pytest.raises(InvalidInput):
        create_engine_for("nosuchdb://host/db")


def test_duplicate_idempotency_key_raises_idempotency_conflict(engine: Engine) -> None:
    seed(engine, items=[item()], bookings=[booking("b1")], payments=[payment("p1", "key-1")])
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(IdempotencyConflict) as raised:
        uow.payments.add(payment("p2", "key-1"))
    assert isinstance(raised.value.__cause__, AlreadyExists)
    assert [p.id for p in stored(engine, lambda uow: uow.payments.for_booking("b1"))] == ["p1"]
    assert stored(engine, lambda uow: uow.payments.get_by_key("key-1")).id == "p1"


def test_a_payment_for_a_missing_booking_is_a_storage_error_not_a_key_conflict(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(StorageError) as raised:
        uow.payments.add(payment("p1", "key-1", booking_id="no-such-booking"))
    assert not isinstance(raised.value, IdempotencyConflict | AlreadyExists)


@pytest.mark.parametrize("add", [
    lambda uow: uow.inventory.add(item()),
    lambda uow: uow.bookings.add(booking("b1", item_id="other")),
    lambda uow: uow.promos.add(PromoCode(code="SAVE", kind=PromoKind.PERCENTAGE, value=Decimal(10))),
], ids=["inventory", "booking", "promo"])
def test_a_taken_key_raises_already_exists(engine: Engine, add: Callable[[Any], None]) -> None:
    seed(engine, items=[item("other")])
    stored(engine, add)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(AlreadyExists):
        add(uow)


def test_release_above_capacity_raises_storage_error(engine: Engine) -> None:
    seed(engine, items=[item(capacity=2)])
    assert stored(engine, lambda uow: uow.inventory.take("room", 1))
    uow = SqlAlchemyUnitOfWork(engine)
    with uow, pytest.raises(StorageError, match="exceed capacity"):
        uow.inventory.release({"room": 2})
    with uow, pytest.raises(StorageError):
        uow.inventory.release({"no-such-item": 1})
    assert stored(engine, lambda uow: uow.inventory.get("room")).available == 1


def test_take_never_goes_below_zero(engine: Engine) -> None:
    seed(engine, items=[item(capacity=2)])
    assert stored(engine, lambda uow: [uow.inventory.take("room", n) for n in (3, 2, 1)]) == [
        False, True, False]
    assert not stored(engine, lambda uow: uow.inventory.take("no-such-item", 1))


# ---- transactions -------------------------------------------------------------------------------

def test_work_is_rolled_back_unless_committed(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.inventory.add(item("forgotten"))
    assert not uow.committed
    with pytest.raises(RuntimeError), uow:
        uow.inventory.add(item("failed"))
        uow.commit()
        uow.inventory.add(item("after-commit"))
        raise RuntimeError("boom")
    assert uow.committed
    with uow:
        assert [i.id for i in uow.inventory.list()] == ["failed"]
        uow.inventory.add(item("undone"))
        uow.rollback()
        uow.inventory.add(item("kept"))
        uow.commit()
    assert stored(engine, lambda uow: [i.id for i in uow.inventory.list()]) == ["failed", "kept"]


def test_a_block_goes_on_in_a_new_transaction_after_commit_or_rollback(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        uow.inventory.add(item("room", capacity=5))  # Core
        uow.commit()
    with uow:
        assert uow.inventory.take("room", 2)
        uow.inventory.add(item("suite"))
        uow.rollback()
        assert uow.inventory.take("room", 1)  # a new transaction after the rollback
        uow.commit()
        uow.inventory.add(item("hall"))  # and after the commit
        assert uow.inventory.take("hall", 3)
    assert uow.committed  # it committed once, mid-block
    assert stored(engine, lambda uow: [(i.id, i.available) for i in uow.inventory.list()]) == [
        ("room", 4)]
    with uow:
        uow.inventory.add(item("hall"))
        assert uow.inventory.take("hall", 3)
        uow.commit()
    assert stored(engine, lambda uow: [(i.id, i.available) for i in uow.inventory.list()]) == [
        ("hall", 2), ("room", 4)]


def test_a_connection_lost_mid_transaction_is_never_reused(server_engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(server_engine)
    with uow:
        uow.inventory.add(item())
        uow.commit()
    with uow:
        assert uow.inventory.take("room", 1)
        session = uow.run(text(session_query(uow.dialect_name))).scalar_one()
        _kill_and_wait(server_engine, [int(session)])
        with pytest.raises(TransientConflict):
            uow.inventory.take("room", 1)  # the driver error is judged a lost connection
        with pytest.raises(TransientConflict):
            uow.inventory.get("room")  # the transaction is gone; nothing runs on the dead session
    with uow:  # the pool hands out a healthy connection, and nothing of the lost one committed
        found = uow.inventory.get("room")
        assert found is not None and found.available == found.capacity


def test_a_unit_of_work_refuses_to_be_used_outside_or_inside_itself(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with pytest.raises(StorageError):
        uow.inventory.list()
    with pytest.raises(StorageError):
        uow.commit()
    with uow, pytest.raises(StorageError), uow:
        pass  # pragma: no cover


def test_sqlite_takes_the_write_lock_when_the_transaction_begins(tmp_path: Path) -> None:
    engine = fresh_engine("sqlite", tmp_path)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    other = sqlite3.connect(str(tmp_path / "bookcore.db"), timeout=0, isolation_level=None)
    with SqlAlchemyUnitOfWork(engine), pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("BEGIN IMMEDIATE")  # though the unit of work has not read or written yet
    other.execute("BEGIN IMMEDIATE")
    other.close()


def test_sqlite_busy_past_the_timeout_is_a_transient_conflict(tmp_path: Path) -> None:
    engine = fresh_engine("sqlite", tmp_path)

    @event.listens_for(engine, "connect")
    def _impatient(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 50")

    engine.dispose()
    blocker = sqlite3.connect(str(tmp_path / "bookcore.db"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(TransientConflict), SqlAlchemyUnitOfWork(engine):
            pass  # pragma: no cover
    finally:
        blocker.close()


def test_servers_run_at_read_committed(server_engine: Engine) -> None:
    with server_engine.connect() as connection:
        assert connection.get_isolation_level() == "READ COMMITTED"


# ---- the expiry sweep ---------------------------------------------------------------------------

def _lapsed_holds(engine: Engine, count: int, *, item_id: str = "room") -> list[str]:
    ids = [f"{item_id}-b{i:02d}" for i in range(count)]

    def add(uow: SqlAlchemyUnitOfWork) -> None:
        uow.inventory.add(item(item_id, capacity=count))
        for i, booking_id in enumerate(ids):
            assert uow.inventory.take(item_id, 1)
            # Pairs share an expiry instant, so the tie-break on id is exercised too.
            uow.bookings.add(booking(booking_id, item_id=item_id,
                                     expires_at=START + timedelta(minutes=1 + i // 2)))

    stored(engine, add)
    return ids


def claim_and_mark(uow: SqlAlchemyUnitOfWork, now: datetime, limit: int,
                   item_id: str | None = None) -> list[ExpiredHold]:
    claimed = uow.bookings.claim_lapsed(now, limit, item_id=item_id)
    uow.bookings.mark_expired([hold.booking_id for hold in claimed], now)
    return claimed


def test_sweep_expires_the_oldest_lapsed_holds_first_up_to_the_limit(engine: Engine) -> None:
    ids = _lapsed_holds(engine, 6)
    other = _lapsed_holds(engine, 2, item_id="suite")
    now = START + timedelta(hours=1)
    first = stored(engine, lambda uow: claim_and_mark(uow, now, 3, item_id="room"))
    # The oldest by expiry, then id (pairs share an instant); the list itself is in no order.
    assert sorted(hold.booking_id for hold in first) == sorted(ids[:3])
    assert (ids[0], "room", "alice", 1) in first
    assert stored(engine, lambda uow: uow.bookings.count_lapsed(now)) == (5, 5)
    rest = stored(engine, lambda uow: claim_and_mark(uow, now, 100))
    assert sorted(hold.booking_id for hold in rest) == sorted(other + ids[3:])
    assert stored(engine, lambda uow: claim_and_mark(uow, now, 100)) == []
    expired = stored(engine, lambda uow: uow.bookings.get(ids[0]))
    assert (expired.status, expired.expired_at) == (BookingStatus.EXPIRED, now)


def test_concurrent_sweepers_skip_each_others_locked_holds(server_engine: Engine) -> None:
    ids = _lapsed_holds(server_engine, 6)
    now = START + timedelta(hours=1)
    first, second = SqlAlchemyUnitOfWork(server_engine), SqlAlchemyUnitOfWork(server_engine)
    with first:
        taken = first.bookings.claim_lapsed(now, 2)
        with impatient(second):
            skipped = second.bookings.claim_lapsed(now, 100)  # would block without SKIP LOCKED
            second.commit()
        first.commit()
    assert [h.booking_id for h in taken] == ids[:2]
    assert [h.booking_id for h in skipped] == ids[2:]


def test_a_booking_locked_for_update_is_skipped_by_the_sweep(server_engine: Engine) -> None:
    ids = _lapsed_holds(server_engine, 2)
    now = START + timedelta(hours=1)
    payer, sweeper = SqlAlchemyUnitOfWork(server_engine), SqlAlchemyUnitOfWork(server_engine)
    with payer:
        assert payer.bookings.get(ids[0], for_update=True) is not None
        with impatient(sweeper):
            assert [h.booking_id for h in sweeper.bookings.claim_lapsed(now, 10)] == ids[1:]
            sweeper.commit()


def test_save_only_moves_a_booking_still_in_the_expected_status(engine: Engine) -> None:
    seed(engine, items=[item()], bookings=[booking("b1")])
    held = stored(engine, lambda uow: uow.bookings.get("b1", for_update=True))
    confirmed = held.moved_to(BookingStatus.CONFIRMED, START)
    cancelled = held.moved_to(BookingStatus.CANCELLED, START)
    assert stored(engine, lambda uow: uow.bookings.save(confirmed, expected_status=BookingStatus.HELD))
    assert not stored(engine, lambda uow: uow.bookings.save(cancelled, expected_status=BookingStatus.HELD))
    assert stored(engine, lambda uow: uow.bookings.get("b1")) == confirmed


@contextmanager
def impatient(uow: SqlAlchemyUnitOfWork) -> Iterator[SqlAlchemyUnitOfWork]:
    """``with uow`` whose lock waits fail after a few seconds, so a missing SKIP LOCKED fails the
    test instead of hanging it."""
    with uow:
        if uow.dialect_name == "postgresql":
            uow.run(text("SET LOCAL lock_timeout = '3s'"))
            yield uow
            return
        uow.run(text("SET SESSION innodb_lock_wait_timeout = 3"))
        try:
            yield uow
        finally:  # the connection goes back to the pool: leave it as it was
            uow.run(text("SET SESSION innodb_lock_wait_timeout = DEFAULT"))


# ---- conflicts the database resolves by aborting a transaction ----------------------------------

def test_a_deadlock_is_a_transient_conflict(server_engine: Engine) -> None:
    seed(server_engine, items=[item("a"), item("b")])
    barrier = threading.Barrier(2)
    outcomes: list[BaseException | None] = [None, None]

    def worker(index: int, first: str, second: str) -> None:
        uow = SqlAlchemyUnitOfWork(server_engine)
        try:
            with uow:
                uow.inventory.take(first, 1)
                barrier.wait(timeout=10)
                uow.inventory.take(second, 1)  # each now waits for the other
                uow.commit()
        except BookcoreError as error:
            outcomes[index] = error

    threads = [threading.Thread(target=worker, args=(0, "a", "b")),
               threading.Thread(target=worker, args=(1, "b", "a"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    failed = [outcome for outcome in outcomes if outcome is not None]
    assert len(failed) == 1, outcomes
    assert isinstance(failed[0], TransientConflict)


def test_a_connection_lost_mid_transaction_is_a_transient_conflict(server_engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(server_engine)
    with uow:
        uow.inventory.add(item())
        session = uow.run(text(session_query(uow.dialect_name))).scalar_one()
        if uow.dialect_name == "postgresql":
            kill = text("SELECT pg_terminate_backend(:session)")
        else:
            kill = text(f"KILL {int(session)}")
        with server_engine.connect() as other:
            other.execute(kill, {"session": session})
            other.commit()
        with pytest.raises(TransientConflict):
            uow.inventory.list()
    with uow:  # the pool hands out a healthy connection next time
        assert uow.inventory.list() == []


def session_query(dialect_name: str) -> str:
    """The SQL that gives the server's id for the session it runs in."""
    return "SELECT pg_backend_pid()" if dialect_name == "postgresql" else "SELECT CONNECTION_ID()"


def _session_id(connection: Any) -> int:
    return int(connection.exec_driver_sql(session_query(connection.dialect.name)).scalar())


def _kill_and_wait(engine: Engine, sessions: list[int]) -> None:
    """Kill the server sessions from outside the pool and wait until the server has ended them."""
    postgres = engine.dialect.name == "postgresql"
    listing = ("SELECT pid FROM pg_stat_activity" if postgres
               else "SELECT id FROM information_schema.processlist")
    outside = create_engine(engine.url, poolclass=NullPool)
    try:
        with outside.connect() as connection:
            for session in sessions:
                connection.exec_driver_sql(f"SELECT pg_terminate_backend({session})" if postgres
                                           else f"KILL {session}")
            while set(sessions) & {row[0] for row in connection.exec_driver_sql(listing)}:
                connection.rollback()  # a fresh snapshot of the activity view on every poll
    finally:
        outside.dispose()


def test_connections_killed_while_idle_in_the_pool_are_survived(server_engine: Engine) -> None:
    """No ping before each checkout: the first statement on a dead connection fails, the pool is
    invalidated and the call is retried on a fresh connection. Reads and writes both recover."""
    from bookcore import (
        SystemClock,
        add_inventory_item,
        audit,
        booking_details,
        credit_wallet,
        place_hold,
        quote,
        wallet_balance,
    )

    uow, clock = SqlAlchemyUnitOfWork(server_engine), SystemClock()
    add_inventory_item(uow, item_id="room", name="Room", capacity=5, unit_price="1000.00", currency="INR")
    credit_wallet(uow, customer_id="asha", amount="300.00", currency="INR", reason="top-up", clock=clock)
    calls: list[Callable[[], Any]] = [
        lambda: quote(uow, item_id="room", customer_id="asha", quantity=1, clock=clock),
        lambda: wallet_balance(uow, customer_id="asha", currency="INR"),
        lambda: place_hold(uow, item_id="room", customer_id="asha", quantity=1, clock=clock),
        lambda: audit(uow, clock=clock),
    ]
    results = []
    for call in calls:
        pooled = [server_engine.connect() for _ in range(3)]  # three idle connections in the pool
        sessions = [_session_id(connection) for connection in pooled]
        for connection in pooled:
            connection.close()
        _kill_and_wait(server_engine, sessions)
        results.append(call())
    assert results[0].wallet_applied == Decimal("300.00")
    assert results[1] == Decimal("300.00")
    held = results[2].booking
    assert booking_details(uow, booking_id=held.id, clock=clock).booking.status is BookingStatus.HELD
    assert results[3].ok


def test_raw_inserts_through_the_table_refuse_naive_datetimes_too(engine: Engine) -> None:
    row = {"id": "x", "name": "x", "capacity": 1, "available": 1, "unit_price": Decimal(1),
           "currency": "INR", "starts_at": datetime(2026, 1, 1)}
    with pytest.raises(StatementError, match="timezone-aware"), engine.begin() as connection:
        connection.execute(insert(inventory_items).values(row))
