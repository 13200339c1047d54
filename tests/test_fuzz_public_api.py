"""Every public function and constructor of ``bookcore``, fed malformed arguments one at a time:
wrong types, lone surrogates, huge, tiny and non-finite numbers, and the ends of the calendar.

A call may succeed (the junk was valid after all) or be refused; the only exceptions allowed are
``BookcoreError``s, an ``InvalidInput`` names its field, and a refused service call leaves the
store exactly as it was. Runs on the in-memory store and every SQL backend."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bookcore
from bookcore import (
    FULL_REFUND_BEFORE_START,
    MAX_AMOUNT,
    Actor,
    AuditReport,
    BookcoreError,
    Booking,
    Charges,
    ExpiryResult,
    Fee,
    FeeKind,
    InvalidAmount,
    InvalidInput,
    InventoryItem,
    ManualClock,
    Pricing,
    PromoCode,
    PromoKind,
    PromoUsage,
    Refund,
    RefundMode,
    RefundPolicy,
    RefundTier,
    UnitOfWork,
    Violation,
)
from bookcore.clock import LATEST
from tests.conftest import START
from tests.world import World

TALLY: Counter[str] = Counter()
#: A twenty-fifth of the profile's examples per function and backend: 40 under the CI profile.
FUZZ = settings(max_examples=max(8, settings().max_examples // 25), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@dataclass(frozen=True)
class FixedClock:
    """A clock that says whatever it was given, as a caller's own clock might."""

    moment: object

    def now(self) -> Any:
        return self.moment


class NoClock:
    now = 5


def _offset(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


#: Every kind of malformed value, once each; the strategies below add random ones of each kind.
JUNK: list[object] = [
    None, True, False, 0, -1, 7, 2**70, -(2**70), 1.5, -0.0, math.nan, math.inf,
    Decimal("1E+30"), Decimal("1E-30"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"),
    Decimal("-Infinity"), Decimal("-0"), Decimal("-0.00"), MAX_AMOUNT, MAX_AMOUNT + Decimal("0.01"),
    "", " ", "\ud800", "room\udfff", "room\x00", "x" * 300, "1E+30", "NaN", b"bytes", [], {}, (), object(),
    datetime(1, 1, 1, tzinfo=UTC), datetime.max.replace(tzinfo=UTC),
    datetime(1, 1, 1, 1, tzinfo=_offset(5)), datetime(9999, 12, 31, 20, tzinfo=_offset(-5)),
    datetime(2026, 1, 20), timedelta.max, timedelta.min, timedelta(0), timedelta(-1),
    FixedClock(datetime(1, 1, 1, tzinfo=UTC)), FixedClock(datetime.max.replace(tzinfo=UTC)),
    FixedClock(datetime(9999, 12, 31, tzinfo=UTC)), FixedClock(datetime(2026, 1, 20)),
    FixedClock(None), FixedClock("2026-01-20T00:00:00Z"), NoClock(),
]
aware = st.datetimes(timezones=st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23),
                                                                 max_value=timedelta(hours=23))))
moments = st.one_of(aware, st.datetimes())
junk: st.SearchStrategy[object] = st.one_of(
    st.sampled_from(JUNK),
    st.integers(), st.floats(), st.booleans(),
    st.decimals(), st.decimals(places=30), st.builds(Decimal, st.sampled_from(["1E+30", "-1E-30"])),
    st.text(max_size=8), st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),
    st.text(max_size=6).map(lambda text: f"{text}\udc80"), st.binary(max_size=4),
    moments, st.timedeltas(), st.builds(FixedClock, moments),
    st.lists(st.integers(), max_size=2), st.tuples(st.text(max_size=3)),
)


# ---- the calls: each names its arguments and a valid value for each ---------------------------

@dataclass(frozen=True)
class Case:
    name: str
    call: Callable[..., Any]
    good: Callable[[Shop], dict[str, Any]]


@dataclass
class Shop:
    """A store with an item, a promo code, funded wallets, a held and a paid booking."""

    uow: UnitOfWork
    clock: ManualClock
    held: Booking
    paid: Booking
    owed: Refund


def _open(uow: UnitOfWork) -> Shop:
    clock = ManualClock(START)
    world = World(uow, clock)
    bookcore.add_inventory_item(uow, item_id="room-101", name="Room 101", capacity=50,
                                unit_price=Decimal("1000.00"), currency="INR",
                                starts_at=START + timedelta(days=30))
    bookcore.add_promo_code(uow, PROMO)
    world.fund("alice", "500.00")
    world.fund("bob", "100.00")
    held = world.hold("alice", booking_id="b-alice")
    paid = world.hold("bob", booking_id="b-bob")
    world.pay(paid, key="pay-bob")
    mismatched = world.pay(world.hold("dave", booking_id="b-dave"), key="pay-dave",
                           gateway=Decimal("1.00"), unplaced_money_to=RefundMode.ORIGINAL)
    assert mismatched.refund is not None
    return Shop(uow, clock, held, world.booking("b-bob"), mismatched.refund)


PROMO = PromoCode(code="SAVE10", kind=PromoKind.PERCENTAGE, value=Decimal("10"), currency="INR",
                  max_discount=Decimal("500.00"), min_subtotal=Decimal("100.00"),
                  valid_from=START - timedelta(days=1), valid_until=START + timedelta(days=90),
                  max_uses=100, max_uses_per_customer=3)
FEE = Fee(name="convenience", kind=FeeKind.PERCENTAGE, value=Decimal("2"))
CHARGES = Charges(fees=(FEE, Fee(name="handling", kind=FeeKind.FIXED, value=Decimal("25.00"),
                                 currency="INR")), tax_percent=Decimal("18"))


def _hold_args(shop: Shop) -> dict[str, Any]:
    return {"item_id": "room-101", "customer_id": "carol", "quantity": 1, "clock": shop.clock,
            "promo_code": "save10", "charges": CHARGES}


SERVICES = [
    Case("place_hold", bookcore.place_hold, lambda shop: _hold_args(shop) | {
        "hold_ttl": timedelta(minutes=10), "booking_id": "b-carol"}),
    Case("quote", bookcore.quote, _hold_args),
    Case("expire_holds", bookcore.expire_holds, lambda shop: {
        "clock": shop.clock, "batch_size": 10, "max_batches": 2, "on_batch": lambda *_: None}),
    Case("finalize_payment", bookcore.finalize_payment, lambda shop: {
        "booking_id": "b-alice", "idempotency_key": "pay-alice",
        "gateway_amount": shop.held.pricing.gateway_payable, "currency": "INR", "clock": shop.clock,
        "gateway_reference": "gw-1", "accept_late_payment": True,
        "unplaced_money_to": RefundMode.WALLET}),
    Case("cancel_booking", bookcore.cancel_booking, lambda shop: {
        "booking_id": "b-bob", "actor": Actor.staff("ops"), "clock": shop.clock,
        "refund_mode": RefundMode.WALLET, "policy": FULL_REFUND_BEFORE_START}),
    Case("add_inventory_item", bookcore.add_inventory_item, lambda shop: {
        "item_id": "room-102", "name": "Room 102", "capacity": 2, "unit_price": Decimal("10.00"),
        "currency": "INR", "starts_at": START + timedelta(days=7)}),
    Case("add_promo_code", bookcore.add_promo_code, lambda shop: {
        "promo": PromoCode(code="FIVE", kind=PromoKind.FIXED, value=Decimal("5"), currency="INR")}),
    Case("credit_wallet", bookcore.credit_wallet, lambda shop: {
        "customer_id": "alice", "amount": Decimal("1.00"), "currency": "INR", "reason": "goodwill",
        "clock": shop.clock}),
    Case("debit_wallet", bookcore.debit_wallet, lambda shop: {
        "customer_id": "alice", "amount": Decimal("1.00"), "currency": "INR", "reason": "payout",
        "clock": shop.clock}),
    Case("wallet_balance", bookcore.wallet_balance,
         lambda shop: {"customer_id": "alice", "currency": "INR"}),
    Case("wallet_history", bookcore.wallet_history,
         lambda shop: {"customer_id": "alice", "currency": "INR"}),
    Case("booking_details", bookcore.booking_details,
         lambda shop: {"booking_id": "b-alice", "clock": shop.clock}),
    Case("list_bookings", bookcore.list_bookings, lambda shop: {"customer_id": "alice"}),
    Case("read_events", bookcore.read_events, lambda shop: {"after": 0}),
    Case("acknowledge", bookcore.acknowledge, lambda shop: {"consumer": "mailer", "position": 1}),
    Case("inventory_items", bookcore.inventory_items, lambda shop: {"item_id": "room-101"}),
    Case("mark_gateway_refund_executed", bookcore.mark_gateway_refund_executed, lambda shop: {
        "refund_id": shop.owed.id, "gateway_reference": "re-1", "clock": shop.clock}),
    Case("audit", bookcore.audit,
         lambda shop: {"clock": shop.clock, "sweep_interval": timedelta(days=1)}),
]

def _model_case(model: type[Any], instance: Callable[[Shop], Any]) -> Case:
    """A result model's constructor, its valid arguments taken from an instance bookcore built."""
    return Case(model.__name__, model, lambda shop: dict(instance(shop).__dict__))


# ``field`` arguments are excluded: they are the label a caller's own error should carry.
PURE = [
    Case("calculate_pricing", bookcore.calculate_pricing, lambda shop: {
        "unit_price": Decimal("1499.00"), "quantity": 3, "currency": "INR", "now": START,
        "promo_code": "save10", "promo": PROMO, "promo_usage": PromoUsage(total=1, by_customer=0),
        "fees": CHARGES.fees, "tax_percent": Decimal("18"), "wallet_balance": Decimal("700.00")}),
    Case("parse_amount", bookcore.parse_amount,
         lambda shop: {"value": "12.50", "currency": "EUR", "allow_zero": False}),
    Case("quantize", bookcore.quantize,
         lambda shop: {"amount": Decimal("12.345"), "currency": "EUR"}),
    Case("seconds_left", bookcore.seconds_left, lambda shop: {"booking": shop.held, "now": START}),
    Case("ensure_utc", bookcore.ensure_utc, lambda shop: {"moment": START}),
    Case("Fee", Fee, lambda shop: {"name": "handling", "kind": FeeKind.FIXED,
                                   "value": Decimal("25.00"), "currency": "INR"}),
    Case("PromoCode", PromoCode, lambda shop: {name: getattr(PROMO, name)
                                               for name in PromoCode.model_fields}),
    Case("PromoUsage", PromoUsage, lambda shop: {"total": 1, "by_customer": 1}),
    Case("Charges", Charges, lambda shop: {"fees": CHARGES.fees, "tax_percent": Decimal("5")}),
    Case("Actor", Actor, lambda shop: {"id": "alice", "is_staff": False}),
    Case("Actor.customer", Actor.customer, lambda shop: {"customer_id": "alice"}),
    Case("Actor.staff", Actor.staff, lambda shop: {"staff_id": "ops"}),
    Case("RefundTier", RefundTier,
         lambda shop: {"min_notice": timedelta(days=2), "percent": Decimal("50")}),
    Case("RefundPolicy", RefundPolicy, lambda shop: {"tiers": FULL_REFUND_BEFORE_START.tiers,
                                                     "after_start": FULL_REFUND_BEFORE_START.after_start}),
    Case("InventoryItem", InventoryItem, lambda shop: {
        "id": "room-9", "name": "Room 9", "capacity": 3, "available": 2,
        "unit_price": Decimal("10.00"), "currency": "INR", "starts_at": START}),
    Case("ManualClock", ManualClock, lambda shop: {"start": START}),
    Case("create_engine_for", bookcore.create_engine_for, lambda shop: {"url": "sqlite://"}),
    Case("SqlAlchemyUnitOfWork", bookcore.SqlAlchemyUnitOfWork,
         lambda shop: {"engine": bookcore.create_engine_for("sqlite://")}),
    Case("migrate", bookcore.migrate, lambda shop: {"engine": bookcore.create_engine_for("sqlite://")}),
    Case("current_revision", bookcore.current_revision,
         lambda shop: {"engine": bookcore.create_engine_for("sqlite://")}),
    Case("ManualClock.advance", lambda delta: ManualClock(START).advance(delta),
         lambda shop: {"delta": timedelta(hours=1)}),
    Case("ManualClock.set", lambda moment: ManualClock(START).set(moment),
         lambda shop: {"moment": START}),
    *(_model_case(model, instance) for model, instance in [
        (Booking, lambda shop: shop.held), (Pricing, lambda shop: shop.held.pricing),
        (Violation, lambda shop: Violation(rule="r", subject="s", detail="d")),
        (ExpiryResult, lambda shop: ExpiryResult(expired_bookings=0, released_units=0, batches=1)),
        (AuditReport, lambda shop: AuditReport(violations=(), items_checked=1, wallets_checked=1,
                                               bookings_checked=1))]),
]


def _snapshot(uow: UnitOfWork) -> Any:
    """Everything a call could change, as plain values."""
    with uow:
        customers = ("alice", "bob", "carol")
        bookings = list(uow.bookings.list(limit=1000))
        return (list(uow.inventory.list()), bookings, list(uow.audit.item_occupancy()),
                list(uow.audit.wallet_totals()), list(uow.audit.booking_money()),
                [list(uow.wallets.entries(customer, "INR")) for customer in customers],
                [(list(uow.payments.for_booking(b.id)), list(uow.refunds.for_booking(b.id)))
                 for b in bookings],
                [uow.promos.get(code) for code in ("SAVE10", "FIVE")])


def _attempt(call: Callable[[], Any], uow: UnitOfWork | None) -> None:
    """Run one call: any exception but a BookcoreError fails the test; a refusal must name its
    field and leave the store as it was."""
    before = _snapshot(uow) if uow is not None else None
    TALLY["calls"] += 1
    try:
        call()
    except BookcoreError as error:
        TALLY["refused"] += 1
        if isinstance(error, InvalidInput):
            field = error.details.get("field")
            assert isinstance(field, str) and field, f"{error!r} names no field"
        if uow is not None:
            assert _snapshot(uow) == before
    else:
        TALLY["accepted"] += 1


@pytest.fixture
def shop(uow: UnitOfWork) -> Iterator[Shop]:
    yield _open(uow)
    if path := os.environ.get("BOOKCORE_FUZZ_REPORT"):
        with open(path, "a", encoding="utf-8") as report:
            report.write(json.dumps(dict(TALLY)) + "\n")
        TALLY.clear()


def _arguments(case: Case, shop: Shop) -> st.SearchStrategy[tuple[str, object]]:
    """One argument's name and the junk it gets; the others keep their valid values."""
    return st.tuples(st.sampled_from(sorted(case.good(shop))), junk)


@pytest.mark.parametrize("case", SERVICES, ids=lambda case: case.name)
def test_services_refuse_junk_with_a_named_field_and_change_nothing(case: Case, shop: Shop) -> None:
    @FUZZ
    @given(argument=_arguments(case, shop))
    def run(argument: tuple[str, object]) -> None:
        name, value = argument
        arguments = case.good(shop) | {name: value}
        _attempt(lambda: case.call(shop.uow, **arguments), shop.uow)

    run()


@pytest.mark.parametrize("case", PURE, ids=lambda case: case.name)
@pytest.mark.parametrize("uow", ["memory"], indirect=True)
def test_pure_functions_and_constructors_refuse_junk_with_a_named_field(case: Case,
                                                                         shop: Shop) -> None:
    @FUZZ
    @given(argument=_arguments(case, shop))
    def run(argument: tuple[str, object]) -> None:
        name, value = argument
        arguments = case.good(shop) | {name: value}
        _attempt(lambda: case.call(**arguments), None)

    run()


#: The label a refusal gives an argument when it is not the argument's own name.
LABELS = {("parse_amount", "value"): "amount", ("ensure_utc", "moment"): "now"}


def _call(case: Case, shop: Shop, arguments: dict[str, Any]) -> Any:
    return case.call(shop.uow, **arguments) if case in SERVICES else case.call(**arguments)


@pytest.mark.parametrize("case", [*SERVICES, *PURE], ids=lambda case: case.name)
@pytest.mark.parametrize("uow", ["memory"], indirect=True)
def test_every_junk_value_in_every_argument(case: Case, shop: Shop) -> None:
    """Each value of ``JUNK`` in each argument in turn, so every kind reaches every argument."""
    uow = shop.uow if case in SERVICES else None
    for name in sorted(case.good(shop)):
        for value in JUNK:
            _attempt(partial(_call, case, shop, case.good(shop) | {name: value}), uow)


@pytest.mark.parametrize("case", [*SERVICES, *PURE], ids=lambda case: case.name)
@pytest.mark.parametrize("uow", ["memory"], indirect=True)
def test_a_wrong_type_is_refused_naming_its_argument(case: Case, shop: Shop) -> None:
    for name in case.good(shop):
        with pytest.raises(InvalidInput) as refused:
            _call(case, shop, case.good(shop) | {name: object()})
        assert refused.value.details["field"] == LABELS.get((case.name, name), name)


@pytest.mark.parametrize("case", SERVICES, ids=lambda case: case.name)
def test_valid_arguments_are_accepted(case: Case, shop: Shop) -> None:
    """The baseline every fuzzed call departs from is itself valid, so a refusal is the junk's."""
    case.call(shop.uow, **case.good(shop))


@pytest.mark.parametrize("case", PURE, ids=lambda case: case.name)
@pytest.mark.parametrize("uow", ["memory"], indirect=True)
def test_valid_pure_arguments_are_accepted(case: Case, shop: Shop) -> None:
    case.call(**case.good(shop))


# ---- what the fuzzing found, as specifications on every backend ---------------------------------

@pytest.mark.parametrize("text", ["room\udfff", "room\x00"], ids=["surrogate", "nul"])
def test_text_no_backend_can_store_is_refused_in_every_text_argument(shop: Shop, text: str) -> None:
    """UTF-8 cannot encode a lone surrogate, so no database could store it and no log line could
    carry it; PostgreSQL refuses NUL in text, so no backend takes it."""
    for case in SERVICES:
        for name, value in case.good(shop).items():
            if isinstance(value, str):
                before = _snapshot(shop.uow)
                with pytest.raises(InvalidInput) as refused:
                    case.call(shop.uow, **case.good(shop) | {name: text})
                assert refused.value.details["field"] == name
                assert _snapshot(shop.uow) == before


def test_a_hold_whose_total_passes_max_amount_is_never_created(shop: Shop) -> None:
    bookcore.add_inventory_item(shop.uow, item_id="palace", name="Palace", capacity=1,
                                unit_price=MAX_AMOUNT, currency="INR")
    billion = Fee(name="fee", kind=FeeKind.FIXED, value=Decimal("1000000000"), currency="INR")
    before = _snapshot(shop.uow)
    for item_id, charges in [("palace", Charges(tax_percent=Decimal("18"))),
                             ("room-101", Charges(fees=(billion,) * 1001))]:
        with pytest.raises(InvalidAmount) as refused:
            bookcore.place_hold(shop.uow, item_id=item_id, customer_id="carol", quantity=1,
                                clock=shop.clock, charges=charges)
        assert refused.value.details["field"] == "total_amount"
    assert _snapshot(shop.uow) == before


def test_a_credit_taking_a_wallet_past_max_amount_is_refused(shop: Shop) -> None:
    def credit(amount: Decimal) -> Decimal:
        return bookcore.credit_wallet(shop.uow, customer_id="dave", amount=amount, currency="INR",
                                      reason="top-up", clock=shop.clock)

    assert credit(MAX_AMOUNT - 1) == MAX_AMOUNT - 1
    assert credit(Decimal(1)) == MAX_AMOUNT
    with pytest.raises(InvalidAmount) as refused:
        credit(Decimal("0.01"))
    assert refused.value.details["field"] == "amount"
    assert bookcore.wallet_balance(shop.uow, customer_id="dave", currency="INR") == MAX_AMOUNT


@pytest.mark.parametrize("moment", [datetime(9999, 12, 31, tzinfo=UTC), datetime.max.replace(tzinfo=UTC),
                                    datetime(1, 1, 1, tzinfo=UTC), datetime(999, 12, 31, tzinfo=UTC)])
def test_a_clock_at_the_ends_of_the_calendar_is_refused(shop: Shop, moment: datetime) -> None:
    before = _snapshot(shop.uow)
    with pytest.raises(InvalidInput) as refused:
        bookcore.place_hold(shop.uow, item_id="room-101", customer_id="carol", quantity=1,
                            clock=FixedClock(moment), hold_ttl=timedelta(hours=24))
    assert refused.value.details["field"] == "clock"
    with pytest.raises(InvalidInput):
        bookcore.audit(shop.uow, clock=FixedClock(moment))
    assert _snapshot(shop.uow) == before


def test_the_last_moment_bookcore_works_with_still_holds_for_a_day() -> None:
    clock = ManualClock(LATEST)
    with pytest.raises(InvalidInput):
        clock.advance(timedelta(microseconds=1))
    uow = bookcore.InMemoryUnitOfWork()
    bookcore.add_inventory_item(uow, item_id="room", name="Room", capacity=1,
                                unit_price=Decimal("1.00"), currency="INR")
    held = bookcore.place_hold(uow, item_id="room", customer_id="carol", quantity=1, clock=clock,
                               hold_ttl=timedelta(hours=24)).booking
    assert held.expires_at == LATEST + timedelta(hours=24)


@pytest.mark.parametrize("case", SERVICES, ids=lambda case: case.name)
@pytest.mark.parametrize("junk", [None, 5, "uow", object()], ids=repr)
def test_a_service_given_something_else_than_a_unit_of_work_names_it(case: Case, shop: Shop,
                                                                      junk: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        case.call(junk, **case.good(shop))
    assert refused.value.details["field"] == "uow"
