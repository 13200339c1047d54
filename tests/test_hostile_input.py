"""Hostile input for every public service: each call must raise a typed BookcoreError and leave
the store exactly as it was. Runs on every backend; the store is checked after every example."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookcore.cancellation import cancel_booking
from bookcore.catalog import add_inventory_item
from bookcore.clock import ManualClock
from bookcore.errors import BookcoreError
from bookcore.holds import expire_holds, place_hold, quote
from bookcore.model import Actor
from bookcore.money import MINOR_UNITS
from bookcore.payments import finalize_payment
from bookcore.ports import UnitOfWork
from bookcore.pricing import calculate_pricing
from bookcore.wallet import credit_wallet, debit_wallet, wallet_balance, wallet_history
from tests.world import World

TALLY: Counter[str] = Counter()
HOSTILE = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

def _numeric_text(text: str) -> bool:
    """A number as text ("12.50", "-0", "+3"): fine as an amount or refused for its value, which
    the other strategies cover; hostile text is what is no number at all."""
    try:
        return Decimal(text.strip()).is_finite()
    except InvalidOperation:
        return False


hostile_amounts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.just(float("nan")), st.booleans(), st.none(),
    st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_finite()),
    st.integers(max_value=-1), st.integers(min_value=2**40, max_value=2**64),
    st.decimals(min_value=Decimal("-1e20"), max_value=Decimal("-0.001"), places=3),
    # Finer than every currency tested allows (KWD has three minor digits): 0.003000 is valid KWD.
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000"), places=6).filter(
        lambda d: d != d.quantize(Decimal("0.001"))),
    st.text(max_size=12).filter(lambda s: not _numeric_text(s)),
    st.just([1]), st.just({"amount": 1}),
)
hostile_ids = st.one_of(
    st.just(""), st.text(min_size=65, max_size=300), st.integers(), st.none(), st.just(b"bytes"),
    st.text(min_size=1, max_size=10).map(lambda s: f" {s}"),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), min_size=1, max_size=5),
)
hostile_keys = st.one_of(
    st.just(""), st.text(min_size=129, max_size=400), st.integers(), st.none(),
    st.text(min_size=1, max_size=10).map(lambda s: f"{s} "),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), min_size=1, max_size=5),
)
hostile_currencies = st.one_of(st.just("inr"), st.just("XXX"), st.just(""), st.just("INR "),
                               st.text(max_size=5).filter(lambda s: s not in MINOR_UNITS),
                               st.integers(), st.none())
hostile_quantities = st.one_of(st.integers(max_value=0), st.integers(min_value=10_001), st.booleans(),
                               st.floats(), st.just("2"), st.none())
hostile_capacities = st.one_of(st.integers(max_value=-1), st.integers(min_value=10**9 + 1),
                               st.booleans(), st.floats(), st.just("2"), st.none())
hostile_ttls = st.one_of(st.timedeltas(max_value=timedelta(0)),
                         st.timedeltas(min_value=timedelta(hours=24, microseconds=1)),
                         st.integers(), st.just(None), st.just("10m"))
naive_datetimes = st.datetimes(timezones=st.none())


class NaiveClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def store(uow: UnitOfWork, clock: ManualClock) -> Iterator[Callable[[Callable[[], Any]], None]]:
    """A store with an item, a funded wallet and a held booking; yields a checker that runs a
    hostile call and asserts it was refused with a typed error and changed nothing."""
    world = World(uow, clock)
    world.item(capacity=3)
    world.fund("alice", "500.00")
    world.hold("alice", booking_id="b-alice")

    def snapshot() -> Any:
        with uow:
            return (list(uow.audit.item_occupancy()), list(uow.audit.wallet_totals()),
                    list(uow.audit.booking_money()), list(uow.bookings.list(limit=1000)),
                    list(uow.wallets.entries("alice", "INR")))

    before = snapshot()

    def refused(call: Callable[[], Any]) -> None:
        TALLY["tried"] += 1
        with pytest.raises(BookcoreError):
            call()
        TALLY["refused"] += 1
        assert snapshot() == before

    yield refused
    if path := os.environ.get("BOOKCORE_HOSTILE_REPORT"):
        with open(path, "a", encoding="utf-8") as report:
            report.write(json.dumps(dict(TALLY)) + "\n")
        TALLY.clear()


@HOSTILE
@given(amount=hostile_amounts, currency=st.sampled_from(["INR", "JPY", "KWD"]))
def test_hostile_wallet_amounts(store: Any, uow: UnitOfWork, clock: ManualClock, amount: Any,
                                currency: str) -> None:
    store(lambda: credit_wallet(uow, customer_id="alice", amount=amount, currency=currency,
                                reason="x", clock=clock))
    store(lambda: debit_wallet(uow, customer_id="alice", amount=amount, currency=currency,
                               reason="x", clock=clock))


@HOSTILE
@given(currency=hostile_currencies, customer=hostile_ids)
def test_hostile_wallet_identities(store: Any, uow: UnitOfWork, clock: ManualClock, currency: Any,
                                   customer: Any) -> None:
    store(lambda: credit_wallet(uow, customer_id="alice", amount="1", currency=currency, reason="x",
                                clock=clock))
    store(lambda: credit_wallet(uow, customer_id=customer, amount="1", currency="INR", reason="x",
                                clock=clock))
    store(lambda: wallet_balance(uow, customer_id=customer, currency="INR"))
    store(lambda: wallet_history(uow, customer_id="alice", currency=currency))


@HOSTILE
@given(item_id=hostile_ids, price=hostile_amounts, capacity=hostile_capacities,
       currency=hostile_currencies)
def test_hostile_inventory(store: Any, uow: UnitOfWork, item_id: Any, price: Any, capacity: Any,
                           currency: Any) -> None:
    store(lambda: add_inventory_item(uow, item_id=item_id, name="x", capacity=1, unit_price="1",
                                     currency="INR"))
    store(lambda: add_inventory_item(uow, item_id="new", name="x", capacity=1, unit_price=price,
                                     currency="INR"))
    store(lambda: add_inventory_item(uow, item_id="new", name="x", capacity=capacity,
                                     unit_price="1", currency="INR"))
    store(lambda: add_inventory_item(uow, item_id="new", name="x", capacity=1, unit_price="1",
                                     currency=currency))
    store(lambda: add_inventory_item(uow, item_id="room-101", name="dup", capacity=1, unit_price="1",
                                     currency="INR"))


@HOSTILE
@given(quantity=hostile_quantities, ttl=hostile_ttls, ids=hostile_ids, moment=naive_datetimes)
def test_hostile_holds(store: Any, uow: UnitOfWork, clock: ManualClock, quantity: Any, ttl: Any,
                       ids: Any, moment: datetime) -> None:
    store(lambda: place_hold(uow, item_id="room-101", customer_id="bob", quantity=quantity,
                             clock=clock))
    store(lambda: place_hold(uow, item_id="room-101", customer_id="bob", quantity=1, clock=clock,
                             hold_ttl=ttl))
    store(lambda: place_hold(uow, item_id=ids, customer_id="bob", quantity=1, clock=clock))
    store(lambda: place_hold(uow, item_id="room-101", customer_id=ids, quantity=1, clock=clock))
    store(lambda: place_hold(uow, item_id="room-101", customer_id="bob", quantity=1, clock=clock,
                             booking_id=ids if ids is not None else ""))
    store(lambda: place_hold(uow, item_id="room-101", customer_id="bob", quantity=1,
                             clock=NaiveClock(moment)))
    store(lambda: place_hold(uow, item_id="room-101", customer_id="bob", quantity=4, clock=clock))
    store(lambda: quote(uow, item_id="room-101", customer_id="bob", quantity=quantity, clock=clock))


@HOSTILE
@given(amount=hostile_amounts, currency=hostile_currencies, key=hostile_keys, booking=hostile_ids,
       moment=naive_datetimes)
def test_hostile_payments(store: Any, uow: UnitOfWork, clock: ManualClock, amount: Any, currency: Any,
                          key: Any, booking: Any, moment: datetime) -> None:
    def pay(**overrides: Any) -> Any:
        arguments: dict[str, Any] = {"booking_id": "b-alice", "idempotency_key": "k",
                                     "gateway_amount": Decimal("500.00"), "currency": "INR",
                                     "clock": clock}
        return finalize_payment(uow, **(arguments | overrides))

    store(lambda: pay(gateway_amount=amount))
    store(lambda: pay(currency=currency))
    store(lambda: pay(idempotency_key=key))
    store(lambda: pay(booking_id=booking))
    store(lambda: pay(booking_id="unknown-booking"))
    store(lambda: pay(gateway_amount=Decimal("0")))  # nothing captured against 500.00 owed
    store(lambda: pay(clock=NaiveClock(moment)))


@HOSTILE
@given(actor=hostile_ids, booking=hostile_ids, moment=naive_datetimes)
def test_hostile_cancellations(store: Any, uow: UnitOfWork, clock: ManualClock, actor: Any,
                               booking: Any, moment: datetime) -> None:
    store(lambda: cancel_booking(uow, booking_id="b-alice", actor=Actor.customer("mallory"),
                                 clock=clock))
    store(lambda: cancel_booking(uow, booking_id="b-alice", actor=Actor.customer(actor), clock=clock))
    store(lambda: cancel_booking(uow, booking_id=booking, actor=Actor.staff("ops"), clock=clock))
    store(lambda: cancel_booking(uow, booking_id="b-alice", actor=Actor.staff("ops"),
                                 clock=NaiveClock(moment)))
    store(lambda: expire_holds(uow, clock=NaiveClock(moment)))


@HOSTILE
@given(price=hostile_amounts, quantity=hostile_quantities, currency=hostile_currencies,
       moment=naive_datetimes)
def test_hostile_pricing(store: Any, price: Any, quantity: Any, currency: Any, moment: datetime) -> None:
    good: dict[str, Any] = {"unit_price": "10.00", "quantity": 1, "currency": "INR",
                            "now": datetime.fromisoformat("2026-01-01T00:00:00+00:00")}
    for override in ({"unit_price": price}, {"quantity": quantity}, {"currency": currency},
                     {"now": moment}, {"wallet_balance": price}):
        store(lambda override=override: calculate_pricing(**(good | override)))
