"""One lock order, everywhere: sweepers, cancellers and payers as separate OS processes on the same
few items never deadlock. The proof is the server's own deadlock counter, which must not move,
and no ``TransientConflict`` reaching a caller."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bookcore import (
    Actor,
    SqlAlchemyUnitOfWork,
    TransientConflict,
    audit,
    cancel_booking,
    create_engine_for,
    expire_holds,
    finalize_payment,
)
from bookcore.clock import ManualClock
from tests.backends import engine_options, fresh_engine
from tests.conftest import START
from tests.world import World

PROCESSES_PER_ROLE = 16
ITEMS = ("item-a", "item-b", "item-c")
PER_PROCESS = 6  # bookings each canceller and payer settles; sweepers share the lapsed holds


def deadlocks(engine: Engine) -> int:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            return int(connection.execute(text(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")).scalar_one())
        return int(connection.execute(text("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")).one()[1])


def _worker(url: str, options: dict[str, str], role: str, booking_ids: list[str], start: Any,
            results: Any) -> None:
    engine = create_engine_for(url, pool_size=1, max_overflow=0, **options)
    uow = SqlAlchemyUnitOfWork(engine)
    later = ManualClock(START + timedelta(minutes=30))
    conflicts = done = 0
    start.wait()
    work: list[Callable[[], object]]
    if role == "sweeper":
        work = [partial(expire_holds, uow, clock=later, batch_size=5)] * 4
    elif role == "canceller":
        work = [partial(cancel_booking, uow, booking_id=booking_id, actor=Actor.staff("ops"),
                        clock=later) for booking_id in booking_ids]
    else:  # payer: live holds and lapsed ones (late payments that race the sweepers)
        work = [partial(finalize_payment, uow, booking_id=booking_id,
                        idempotency_key=f"pay-{booking_id}", gateway_amount=Decimal("60.00"),
                        currency="INR", clock=later) for booking_id in booking_ids]
    for call in work:
        try:
            call()
            done += 1
        except TransientConflict:
            conflicts += 1
    engine.dispose()
    results.put((role, done, conflicts))


def _seed(world: World) -> tuple[list[str], list[str]]:
    """Confirmed bookings to cancel, live and lapsed holds to pay, and lapsed holds to sweep,
    spread over the same three items and shared customers' wallets."""
    for item_id in ITEMS:
        world.item(item_id, capacity=2000, price="100.00")
    customers = [f"customer-{n}" for n in range(8)]
    for customer in customers:
        world.fund(customer, "100000.00")
    for n in range(8):
        world.fund(f"payer-{n}", "40.00")  # each hold quotes 40 from the wallet, 60 from the gateway
    to_cancel, to_pay = [], []
    for n in range(PROCESSES_PER_ROLE * PER_PROCESS):
        customer, item_id = customers[n % len(customers)], ITEMS[n % len(ITEMS)]
        confirmed = world.hold(customer, item_id=item_id, hold_ttl=timedelta(hours=2))
        world.pay(confirmed, key=f"first-{confirmed.id}")
        to_cancel.append(confirmed.id)
        ttl = timedelta(hours=2) if n % 2 else timedelta(minutes=1)
        to_pay.append(world.hold(f"payer-{n % 8}", item_id=item_id, hold_ttl=ttl).id)
        world.hold(customer, item_id=item_id, hold_ttl=timedelta(minutes=1))  # for the sweepers
    return to_cancel, to_pay


@pytest.mark.parametrize("kind", [pytest.param("postgres", marks=pytest.mark.postgres),
                                  pytest.param("mariadb", marks=pytest.mark.mariadb)])
def test_sweepers_cancellers_and_payers_in_processes_never_deadlock(kind: str, tmp_path: Path) -> None:
    engine = fresh_engine(kind, tmp_path)
    world = World(SqlAlchemyUnitOfWork(engine), ManualClock(START))
    to_cancel, to_pay = _seed(world)
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(3 * PROCESSES_PER_ROLE), context.Queue()
    plan = [("sweeper", list[str]())] * PROCESSES_PER_ROLE + [
        ("canceller", to_cancel[n::PROCESSES_PER_ROLE]) for n in range(PROCESSES_PER_ROLE)] + [
        ("payer", to_pay[n::PROCESSES_PER_ROLE]) for n in range(PROCESSES_PER_ROLE)]
    before = deadlocks(engine)
    processes = [context.Process(target=_worker,
                                   args=(url, engine_options(kind), role, ids, start, results))
                 for role, ids in plan]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert deadlocks(engine) - before == 0
    assert [outcome for outcome in outcomes if outcome[2]] == []
    done = {role: sum(count for kind_, count, _ in outcomes if kind_ == role)
            for role in ("canceller", "payer")}
    assert done == {"canceller": len(to_cancel), "payer": len(to_pay)}
    report = audit(world.uow, clock=ManualClock(START + timedelta(minutes=30)))
    assert report.violations == ()
