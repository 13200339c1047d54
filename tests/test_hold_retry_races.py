"""Retries of one hold racing each other, in separate processes as apps run: every round, each
worker places the hold with the same ``booking_id`` at once (a barrier releases them). The same
request must give one ``created`` and only ``exists`` besides; another request with that id,
``IdempotencyConflict``. Never ``AlreadyExists``, never ``InsufficientInventory`` for a retry."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for
from bookcore.auditing import audit
from bookcore.catalog import add_inventory_item
from bookcore.clock import ManualClock
from bookcore.errors import BookcoreError
from bookcore.holds import place_hold
from tests.backends import engine_options, fresh_engine
from tests.conftest import START

WORKERS = 8
ROUNDS = 15
KINDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres),
         pytest.param("mariadb", marks=pytest.mark.mariadb)]


def _worker(url: str, kind: str, worker: int, customer: str, last_unit: bool,
            barrier: Any, results: Any) -> None:
    engine = create_engine_for(url, **engine_options(kind))
    uow, clock = SqlAlchemyUnitOfWork(engine), ManualClock(START)
    for round_ in range(ROUNDS):
        barrier.wait(timeout=120)
        try:
            outcome = place_hold(uow, item_id=f"last-{round_}" if last_unit else "plenty",
                                 customer_id=customer, quantity=1, clock=clock,
                                 booking_id=f"b-{round_}").outcome.value
        except BookcoreError as error:
            outcome = f"{error.code}:{','.join(error.details.get('differs', []))}"
        results.put((round_, customer, outcome))
    engine.dispose()


def _race(kind: str, tmp_path: Path, customers: list[str], last_unit: bool) -> list[tuple[int, str, str]]:
    engine = fresh_engine(kind, tmp_path)
    uow = SqlAlchemyUnitOfWork(engine)
    items = [(f"last-{r}", 1) for r in range(ROUNDS)] if last_unit else [("plenty", 1000)]
    for item_id, capacity in items:
        add_inventory_item(uow, item_id=item_id, name=item_id, capacity=capacity, unit_price="100.00",
                           currency="INR")
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WORKERS), context.Queue()
    url = engine.url.render_as_string(hide_password=False)
    workers = [context.Process(target=_worker, args=(url, kind, w, customers[w], last_unit,
                                                     barrier, results)) for w in range(WORKERS)]
    for process in workers:
        process.start()
    found = [results.get(timeout=300) for _ in range(WORKERS * ROUNDS)]
    for process in workers:
        process.join(timeout=60)
        assert process.exitcode == 0
    report = audit(uow, clock=ManualClock(START), sweep_interval=timedelta(days=36500))
    assert report.violations == ()
    with uow:
        booked = {b.id: b.customer_id for b in uow.bookings.list(limit=10_000)}
        available = sum(item.available for item in uow.inventory.list())
    assert sorted(booked) == sorted(f"b-{r}" for r in range(ROUNDS))
    assert available == sum(capacity for _, capacity in items) - ROUNDS
    return found


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("last_unit", [False, True], ids=["plenty", "last_unit"])
def test_racing_retries_of_one_hold_create_it_once_and_replay_it(kind: str, last_unit: bool,
                                                                 tmp_path: Path) -> None:
    found = _race(kind, tmp_path, ["alice"] * WORKERS, last_unit)
    for round_ in range(ROUNDS):
        outcomes = Counter(outcome for r, _, outcome in found if r == round_)
        assert outcomes == {"created": 1, "exists": WORKERS - 1}, (round_, outcomes)


@pytest.mark.parametrize("kind", KINDS)
def test_racing_holds_with_one_id_and_different_requests_conflict(kind: str, tmp_path: Path) -> None:
    customers = ["alice", "bob"] * (WORKERS // 2)
    found = _race(kind, tmp_path, customers, last_unit=True)
    for round_ in range(ROUNDS):
        mine = [(customer, outcome) for r, customer, outcome in found if r == round_]
        winner = next(customer for customer, outcome in mine if outcome == "created")
        assert Counter(mine) == {
            (winner, "created"): 1, (winner, "exists"): WORKERS // 2 - 1,
            ("bob" if winner == "alice" else "alice",
             "exists_with_different_payload:customer_id"): WORKERS // 2}, (round_, mine)
