"""A stateful model test: random sequences of every operation, run in lockstep on the in-memory
reference model and on a SQL backend, comparing every result and checking invariants after
every step.

CI runs the committed profile (200 examples x 50 steps per backend); HYPOTHESIS_PROFILE=slow runs
ten times as many examples.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from bookcore.adapters.memory import InMemoryUnitOfWork
from bookcore.audit import audit
from bookcore.cancellation import cancel_booking
from bookcore.catalog import add_inventory_item
from bookcore.clock import ManualClock
from bookcore.errors import BookcoreError
from bookcore.holds import expire_holds, place_hold
from bookcore.model import Actor, RefundMode
from bookcore.payments import finalize_payment
from bookcore.ports import UnitOfWork
from bookcore.wallet import credit_wallet
from tests.conftest import START

EXAMPLES = {"slow": 2000}.get(os.environ.get("HYPOTHESIS_PROFILE", ""), 200)
STEPS = 50
CUSTOMERS = ("alice", "bob", "carol")
NEVER_STALE = timedelta(days=36500)

#: Machines built and invariant checks run by the current ``run_machine`` (for the figures in
#: docs/reliability.md). Hypothesis checks invariants once at the start and after every step.
TALLY = {"machines": 0, "checks": 0}


def outcome(call: Callable[[UnitOfWork], Any], uow: UnitOfWork) -> Any:
    """What a call did, in terms that do not depend on generated ids or the backend."""
    try:
        result = call(uow)
    except BookcoreError as error:
        return ("error", error.code)
    return ("ok", summarize(result))


def summarize(result: Any) -> Any:
    if hasattr(result, "booking") and hasattr(result, "outcome"):  # HoldResult / PaymentResult
        payment = getattr(result, "payment", None)
        refund = getattr(result, "refund", None)
        return (str(result.outcome), getattr(result, "replayed", None), result.booking.status,
                payment and (payment.wallet_amount, payment.gateway_amount, payment.reason),
                refund and (refund.to_wallet, refund.to_gateway))
    if hasattr(result, "old_status"):  # CancellationResult
        refund = result.refund
        return (result.old_status, result.released_units,
                refund and (refund.to_wallet, refund.to_gateway))
    if hasattr(result, "expired_bookings"):
        return (result.expired_bookings, result.released_units)
    return result


class Lifecycle(RuleBasedStateMachine):
    backend_factory: Callable[[], UnitOfWork] = staticmethod(InMemoryUnitOfWork)

    items = Bundle("items")
    bookings = Bundle("bookings")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.model: UnitOfWork = InMemoryUnitOfWork()
        self.real: UnitOfWork = type(self).backend_factory()
        TALLY["machines"] += 1
        self.counter = 0
        self.keys: list[tuple[str, str, Decimal]] = []

    def both(self, call: Callable[[UnitOfWork], Any]) -> Any:
        expected = outcome(call, self.model)
        actual = outcome(call, self.real)
        assert actual == expected, f"backend {actual!r} != model {expected!r}"
        return expected

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    @rule(target=items, capacity=st.integers(0, 4), price=st.sampled_from(["0.00", "99.99", "1000.00"]))
    def add_item(self, capacity: int, price: str) -> str:
        item_id = self.fresh("item")
        self.both(lambda uow: add_inventory_item(uow, item_id=item_id, name=item_id, capacity=capacity,
                                                 unit_price=Decimal(price), currency="INR"))
        return item_id

    @rule(customer=st.sampled_from(CUSTOMERS), amount=st.sampled_from(["0.01", "50.00", "1000.00"]))
    def credit(self, customer: str, amount: str) -> None:
        self.both(lambda uow: credit_wallet(uow, customer_id=customer, amount=Decimal(amount),
                                            currency="INR", reason="top-up", clock=self.clock))

    @rule(target=bookings, item=items, customer=st.sampled_from(CUSTOMERS), quantity=st.integers(1, 3))
    def hold(self, item: str, customer: str, quantity: int) -> str:
        booking_id = self.fresh("booking")
        self.both(lambda uow: place_hold(uow, item_id=item, customer_id=customer, quantity=quantity,
                                         clock=self.clock, booking_id=booking_id))
        return booking_id

    def _owed(self, booking_id: str) -> Decimal:
        with self.model:
            booking = self.model.bookings.get(booking_id)
        return booking.pricing.gateway_payable if booking else Decimal("0.00")

    @rule(booking=bookings, late=st.booleans(), to_gateway=st.booleans())
    def pay(self, booking: str, late: bool, to_gateway: bool) -> None:
        key, amount = self.fresh("key"), self._owed(booking)
        self.keys.append((key, booking, amount))
        self.both(lambda uow: finalize_payment(
            uow, booking_id=booking, idempotency_key=key, gateway_amount=amount, currency="INR",
            clock=self.clock, accept_late_payment=late,
            unplaced_money_to=RefundMode.ORIGINAL if to_gateway else RefundMode.WALLET))

    @rule(data=st.data(), change_payload=st.booleans())
    def retry_payment(self, data: st.DataObject, change_payload: bool) -> None:
        if not self.keys:
            return
        key, booking, amount = data.draw(st.sampled_from(self.keys))
        reference = "changed" if change_payload else None
        self.both(lambda uow: finalize_payment(uow, booking_id=booking, idempotency_key=key,
                                               gateway_amount=amount, currency="INR",
                                               clock=self.clock, gateway_reference=reference))

    @rule(booking=bookings, by_owner=st.booleans(), original=st.booleans())
    def cancel(self, booking: str, by_owner: bool, original: bool) -> None:
        with self.model:
            stored = self.model.bookings.get(booking)
        actor = Actor.customer(stored.customer_id if stored and by_owner else "mallory")
        self.both(lambda uow: cancel_booking(
            uow, booking_id=booking, actor=actor, clock=self.clock,
            refund_mode=RefundMode.ORIGINAL if original else RefundMode.WALLET))

    @rule(seconds=st.sampled_from([1, 59, 300, 599, 600, 601, 3600]))
    def advance(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    @rule(booking=bookings)
    def advance_to_exact_expiry(self, booking: str) -> None:
        with self.model:
            stored = self.model.bookings.get(booking)
        if stored is not None and stored.expires_at > self.clock.now():
            self.clock.set(stored.expires_at)

    @rule(batch=st.sampled_from([1, 2, 500]))
    def sweep(self, batch: int) -> None:
        self.both(lambda uow: expire_holds(uow, clock=self.clock, batch_size=batch))

    @invariant()
    def invariants_hold_and_backends_agree(self) -> None:
        TALLY["checks"] += 1
        reports = [audit(uow, clock=self.clock, sweep_interval=NEVER_STALE)
                   for uow in (self.model, self.real)]
        assert reports[0].violations == () and reports[1].violations == ()
        snapshots = [self._snapshot(uow) for uow in (self.model, self.real)]
        assert snapshots[1] == snapshots[0]

    @staticmethod
    def _snapshot(uow: UnitOfWork) -> Any:
        with uow:
            return (sorted(uow.audit.item_occupancy()), sorted(uow.audit.wallet_totals()),
                    sorted(uow.audit.booking_money()))


def run_machine(factory: Callable[[], UnitOfWork], backend: str) -> None:
    machine: type[Lifecycle] = type("Machine", (Lifecycle,), {"backend_factory": staticmethod(factory)})
    runner = machine.TestCase
    runner.settings = settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None)
    TALLY.update(machines=0, checks=0)
    started = time.perf_counter()
    runner("runTest").runTest()
    if path := os.environ.get("BOOKCORE_STATEFUL_REPORT"):
        with open(path, "a", encoding="utf-8") as report:
            report.write(json.dumps({"backend": backend, "examples_asked": EXAMPLES, "max_steps": STEPS,
                                     "machines_run": TALLY["machines"],
                                     "steps_checked": TALLY["checks"] - TALLY["machines"],
                                     "seconds": round(time.perf_counter() - started, 1)}) + "\n")


def test_memory_model_against_itself_is_consistent() -> None:
    run_machine(InMemoryUnitOfWork, "memory")


@pytest.mark.parametrize("kind", [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
])
def test_sql_backend_matches_the_model(kind: str, tmp_path: Path) -> None:
    from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
    from tests.backends import fresh_engine, reset

    engine = fresh_engine(kind, tmp_path)

    def factory() -> UnitOfWork:
        reset(engine)
        return SqlAlchemyUnitOfWork(engine)

    run_machine(factory, kind)
