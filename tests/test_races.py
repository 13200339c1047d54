"""Races proven against real databases: many workers, one barrier, and invariants afterwards.

32 threads, each with its own connection, on PostgreSQL and on one SQLite file (with and without
group commit); SQLite also runs several processes. No sleeps: a barrier releases every worker at
once, and the assertions hold whatever order the database picks.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.engine import Engine

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for
from bookcore.auditing import audit
from bookcore.clock import ManualClock
from bookcore.errors import BookcoreError, HoldExpired, InsufficientInventory
from bookcore.holds import expire_holds
from bookcore.model import BookingStatus, PaymentOutcome, RefundMode
from bookcore.payments import finalize_payment
from bookcore.ports import UnitOfWork
from tests.backends import engine_options, fresh_engine
from tests.conftest import START
from tests.world import World

WORKERS = 32
T = TypeVar("T")

@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with a pool big enough for every worker to hold its own connection."""
    base = fresh_engine(request.param, tmp_path)
    engine = create_engine_for(base.url.render_as_string(hide_password=False),
                               pool_size=WORKERS + 4, max_overflow=0, **engine_options(request.param))
    yield engine
    engine.dispose()  # the server allows ~100 connections; give these back before the next test

def race(workers: int, work: Callable[[int], T]) -> list[T | BookcoreError]:
    """Run ``work(i)`` for every worker at the same instant; collect results or bookcore errors."""
    barrier = threading.Barrier(workers)

    def start(i: int) -> T | BookcoreError:
        barrier.wait()
        try:
            return work(i)
        except BookcoreError as error:
            return error

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(start, range(workers)))

def assert_consistent(engine: Engine, clock: ManualClock) -> None:
    report = audit(SqlAlchemyUnitOfWork(engine), clock=clock, sweep_interval=timedelta(days=36500))
    assert report.violations == ()

def test_workers_racing_for_the_last_units_never_oversell(engine: Engine) -> None:
    clock = ManualClock(START)
    World(SqlAlchemyUnitOfWork(engine), clock).item(capacity=10)

    def hold(i: int) -> str:
        return World(SqlAlchemyUnitOfWork(engine), clock).hold(f"customer-{i}").id

    results = race(WORKERS, hold)
    held = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, InsufficientInventory)]
    assert (len(held), len(refused)) == (10, WORKERS - 10)
    assert World(SqlAlchemyUnitOfWork(engine), clock).available() == 0
    assert_consistent(engine, clock)

@pytest.mark.parametrize("funds", ["400.00", "5000.00"], ids=["wallet_and_gateway", "wallet_only"])
def test_concurrent_finalizes_with_one_key_debit_the_wallet_once(engine: Engine, funds: str) -> None:
    # The callers that waited for the booking's lock find it paid; on PostgreSQL their lookup of
    # the key predates that payment. With a gateway share they meet its key when recording their
    # own; wallet-only, they are refused (the booking is no longer HELD) before recording anything.
    # Either way they must replay the first payment, not fail.
    clock = ManualClock(START)
    world = World(SqlAlchemyUnitOfWork(engine), clock)
    world.item(capacity=1)
    world.fund("alice", funds)
    booking = world.hold("alice")
    assert (booking.pricing.gateway_payable > 0) is (funds == "400.00")

    def pay(_: int) -> tuple[bool, str]:
        result = World(SqlAlchemyUnitOfWork(engine), clock).pay(booking, key="callback-1")
        return result.replayed, result.payment.id

    results = race(WORKERS, pay)
    assert all(isinstance(r, tuple) for r in results), results
    assert Counter(r[0] for r in results if isinstance(r, tuple)) == {True: WORKERS - 1, False: 1}
    assert len({r[1] for r in results if isinstance(r, tuple)}) == 1
    assert world.balance("alice") == Decimal(funds) - booking.pricing.wallet_applied
    assert [e.kind.value for e in world.ledger("alice")] == ["credit", "debit"]
    assert_consistent(engine, clock)

def test_payments_racing_for_one_wallet_confirm_only_what_it_covers(engine: Engine) -> None:
    # A payment debits the wallet in its last statement; the ones the wallet no longer covers by
    # then must roll their confirmation back and be refused, never overdraw it.
    clock = ManualClock(START)
    world = World(SqlAlchemyUnitOfWork(engine), clock)
    world.item(capacity=WORKERS)
    world.fund("alice", "1000.00")
    bookings = [world.hold("alice") for _ in range(WORKERS)]
    world.fund("alice", "2000.00")  # three of the bookings' 1,000.00, paid from the wallet alone
    assert {(b.pricing.wallet_applied, b.pricing.gateway_payable) for b in bookings} == {
        (Decimal("1000.00"), Decimal("0.00"))}

    def pay(i: int) -> PaymentOutcome:
        return World(SqlAlchemyUnitOfWork(engine), clock).pay(bookings[i], key=f"pay-{i}").outcome

    results = race(WORKERS, pay)
    assert Counter(type(r).__name__ for r in results) == {
        "PaymentOutcome": 3, "InsufficientWalletBalance": WORKERS - 3}, results
    assert Counter(world.booking(b.id).status for b in bookings) == {
        BookingStatus.CONFIRMED: 3, BookingStatus.HELD: WORKERS - 3}
    assert world.balance("alice") == Decimal("0.00")
    assert [e.kind.value for e in world.ledger("alice")].count("debit") == 3
    assert_consistent(engine, clock)


def test_payments_with_gateway_money_racing_for_one_wallet_account_for_every_rupee(
        engine: Engine) -> None:
    # Wallet and gateway: a payment the wallet no longer covers credits its gateway money to the
    # wallet, which may then cover a later one, so only the accounting is fixed, not the count.
    clock = ManualClock(START)
    world = World(SqlAlchemyUnitOfWork(engine), clock)
    world.item(capacity=WORKERS)
    world.fund("alice", "400.00")
    bookings = [world.hold("alice") for _ in range(WORKERS)]
    world.fund("alice", "800.00")
    share, gateway = Decimal("400.00"), Decimal("600.00")
    assert {(b.pricing.wallet_applied, b.pricing.gateway_payable) for b in bookings} == {
        (share, gateway)}

    def pay(i: int) -> PaymentOutcome:
        return World(SqlAlchemyUnitOfWork(engine), clock).pay(bookings[i], key=f"pay-{i}").outcome

    results = Counter(race(WORKERS, pay))
    confirmed, credited = results[PaymentOutcome.CONFIRMED], results[PaymentOutcome.CREDITED_TO_WALLET]
    assert confirmed + credited == WORKERS and confirmed >= 3, results
    assert Counter(world.booking(b.id).status for b in bookings) == {
        BookingStatus.CONFIRMED: confirmed, BookingStatus.HELD: credited}
    assert world.balance("alice") == Decimal("1200.00") - confirmed * share + credited * gateway
    assert [e.kind.value for e in world.ledger("alice")].count("debit") == confirmed
    assert_consistent(engine, clock)


def test_finalize_racing_expiry_at_the_boundary_ends_in_one_final_state(engine: Engine) -> None:
    clock = ManualClock(START)
    world = World(SqlAlchemyUnitOfWork(engine), clock)
    pairs = WORKERS // 2
    world.item(capacity=pairs)
    bookings = []
    for i in range(pairs):
        world.fund(f"c{i}", "1000.00")
        bookings.append(world.hold(f"c{i}"))
    # The payer's server still sees the hold live; the sweeper's clock is at expires_at.
    payer_clock = ManualClock(bookings[-1].expires_at - timedelta(microseconds=1))
    sweeper_clock = ManualClock(bookings[-1].expires_at)

    def act(i: int) -> object:
        uow = SqlAlchemyUnitOfWork(engine)
        if i % 2:
            return expire_holds(uow, clock=sweeper_clock, batch_size=1, max_batches=1)
        booking = bookings[i // 2]
        return finalize_payment(uow, booking_id=booking.id, idempotency_key=f"k{i}",
                                gateway_amount=Decimal(0), currency="INR", clock=payer_clock)

    results = race(WORKERS, act)
    assert not [r for r in results if isinstance(r, BookcoreError) and not isinstance(r, HoldExpired)]
    expire_holds(SqlAlchemyUnitOfWork(engine), clock=sweeper_clock)
    for i, booking in enumerate(bookings):
        status = world.booking(booking.id).status
        debits = [e for e in world.ledger(f"c{i}") if e.kind.value == "debit"]
        assert (status, len(debits)) in {(BookingStatus.CONFIRMED, 1), (BookingStatus.EXPIRED, 0)}
        assert world.balance(f"c{i}") == (0 if status is BookingStatus.CONFIRMED else Decimal("1000"))
    assert_consistent(engine, clock)

def test_cancel_racing_finalize_never_refunds_money_that_was_not_taken(engine: Engine) -> None:
    clock = ManualClock(START)
    world = World(SqlAlchemyUnitOfWork(engine), clock)
    pairs = WORKERS // 2
    world.item(capacity=pairs)
    bookings = []
    for i in range(pairs):
        world.fund(f"c{i}", "250.00")
        bookings.append(world.hold(f"c{i}"))

    def act(i: int) -> object:
        booking, uow = bookings[i // 2], SqlAlchemyUnitOfWork(engine)
        if i % 2:
            return World(uow, clock).cancel(booking, refund_mode=RefundMode.ORIGINAL)
        return World(uow, clock).pay(booking, key=f"k{i}", unplaced_money_to=RefundMode.ORIGINAL)

    results = race(WORKERS, act)
    assert not [r for r in results if isinstance(r, BookcoreError)], results
    with SqlAlchemyUnitOfWork(engine) as uow:
        money = {row.booking_id: row for row in uow.audit.booking_money()}
    for i, booking in enumerate(bookings):
        assert world.booking(booking.id).status is BookingStatus.CANCELLED
        row = money[booking.id]
        # Whatever the order, everything received went back, and nothing more: all 1000.00 if
        # the payment won, only the 750.00 captured at the gateway if the cancellation won.
        assert row.refunded == row.received
        assert row.received in {Decimal("1000.00"), Decimal("750.00")}
        assert world.balance(f"c{i}") == Decimal("250.00")
    assert world.available() == pairs
    assert_consistent(engine, clock)

def _sqlite_worker(url: str, worker: int, attempts: int, queue: multiprocessing.Queue[int]) -> None:
    engine = create_engine_for(url)
    world = World(SqlAlchemyUnitOfWork(engine), ManualClock(START))
    held = 0
    for attempt in range(attempts):
        try:
            world.hold(f"p{worker}-{attempt}")
            held += 1
        except InsufficientInventory:
            pass
    queue.put(held)

def test_processes_racing_on_one_sqlite_file_never_oversell(tmp_path: Path) -> None:
    engine = fresh_engine("sqlite", tmp_path)
    clock = ManualClock(START)
    World(SqlAlchemyUnitOfWork(engine), clock).item(capacity=25)
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[int] = context.Queue()
    workers = [context.Process(target=_sqlite_worker,
                               args=(engine.url.render_as_string(hide_password=False), w, 10, queue))
               for w in range(6)]
    for process in workers:
        process.start()
    held = sum(queue.get(timeout=120) for _ in workers)
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert held == 25
    assert World(SqlAlchemyUnitOfWork(engine), clock).available() == 0
    assert_consistent(engine, clock)

def test_processes_sharing_one_sqlite_wallet_debit_it_once_per_key(tmp_path: Path) -> None:
    engine = fresh_engine("sqlite", tmp_path)
    clock = ManualClock(START)
    world = World(SqlAlchemyUnitOfWork(engine), clock)
    world.item(capacity=1)
    world.fund("alice", "1000.00")
    booking = world.hold("alice")
    context = multiprocessing.get_context("spawn")
    url = engine.url.render_as_string(hide_password=False)
    workers = [context.Process(target=_sqlite_pay, args=(url, booking.id)) for _ in range(6)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert world.balance("alice") == 0
    assert [e.kind.value for e in world.ledger("alice")] == ["credit", "debit"]
    assert_consistent(engine, clock)

def _sqlite_pay(url: str, booking_id: str) -> None:
    uow: UnitOfWork = SqlAlchemyUnitOfWork(create_engine_for(url))
    finalize_payment(uow, booking_id=booking_id, idempotency_key="same", gateway_amount=Decimal(0),
                     currency="INR", clock=ManualClock(START))
