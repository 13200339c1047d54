"""Holding inventory: a fixed window timed by the server clock, independent holds, no oversell."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bookcore.catalog import add_promo_code
from bookcore.clock import ManualClock
from bookcore.errors import (
    CurrencyMismatch,
    IdempotencyConflict,
    InsufficientInventory,
    InvalidInput,
    InventoryItemNotFound,
)
from bookcore.holds import HoldOutcome, expire_holds, place_hold, quote, seconds_left
from bookcore.model import BookingStatus, new_id
from bookcore.ports import UnitOfWork
from bookcore.pricing import Charges, Fee, FeeKind
from bookcore.promos import PromoCode, PromoKind, PromoRefusal
from tests.world import World


def bookings_in(uow: UnitOfWork) -> int:
    with uow:
        return len(uow.bookings.list(customer_id="alice"))


@pytest.fixture
def world(uow: UnitOfWork, clock: ManualClock) -> World:
    return World(uow, clock)


def test_hold_lasts_exactly_ten_minutes_by_default(world: World, clock: ManualClock) -> None:
    world.item()
    booking = world.hold()
    assert booking.status is BookingStatus.HELD
    assert booking.reserved_at == clock.now()
    assert booking.expires_at - booking.reserved_at == timedelta(minutes=10)
    assert seconds_left(booking, clock.now()) == 600
    assert world.booking(booking.id).expires_at == booking.expires_at


def test_hold_window_is_configurable_per_call(world: World) -> None:
    world.item()
    booking = world.hold(hold_ttl=timedelta(minutes=3))
    assert booking.expires_at - booking.reserved_at == timedelta(minutes=3)


def test_two_customers_hold_independently(world: World, clock: ManualClock) -> None:
    world.item(capacity=2)
    first = world.hold("alice")
    clock.advance(timedelta(seconds=40))
    second = world.hold("bob")
    assert first.expires_at == first.reserved_at + timedelta(minutes=10)
    assert second.expires_at == second.reserved_at + timedelta(minutes=10)
    assert second.expires_at - first.expires_at == timedelta(seconds=40)
    assert world.available() == 0
    assert world.booking(first.id).expires_at == first.expires_at


def test_seconds_left_counts_down_from_the_stored_expiry(world: World, clock: ManualClock) -> None:
    world.item()
    booking = world.hold()
    clock.advance(timedelta(minutes=9, seconds=59, milliseconds=500))
    assert seconds_left(booking, clock.now()) == 1
    clock.advance(timedelta(milliseconds=500))
    assert seconds_left(booking, clock.now()) == 0
    clock.advance(timedelta(hours=1))
    assert seconds_left(booking, clock.now()) == 0


def test_capacity_is_never_oversold(world: World) -> None:
    world.item(capacity=3)
    world.hold("alice", quantity=2)
    with pytest.raises(InsufficientInventory) as refused:
        world.hold("bob", quantity=2)
    assert refused.value.details == {"item_id": "room-101", "requested": 2, "available": 1}
    world.hold("bob", quantity=1)
    assert world.available() == 0


def test_a_full_item_reclaims_its_lapsed_holds_without_waiting_for_the_sweeper(
        world: World, clock: ManualClock) -> None:
    world.item(capacity=1)
    lapsed = world.hold("alice")
    clock.advance(timedelta(minutes=10))
    fresh = world.hold("bob")
    assert world.booking(lapsed.id).status is BookingStatus.EXPIRED
    assert world.booking(fresh.id).status is BookingStatus.HELD
    assert world.available() == 0


def test_a_live_hold_is_never_reclaimed(world: World, clock: ManualClock) -> None:
    world.item(capacity=1)
    live = world.hold("alice")
    clock.advance(timedelta(minutes=10) - timedelta(microseconds=1))
    with pytest.raises(InsufficientInventory):
        world.hold("bob")
    assert world.booking(live.id).status is BookingStatus.HELD


def test_hold_prices_through_the_single_pricing_function(world: World, uow: UnitOfWork,
                                                         clock: ManualClock) -> None:
    world.item(price="1500.00")
    world.fund("alice", "500.00")
    charges = Charges(fees=(Fee(name="convenience", kind=FeeKind.PERCENTAGE, value=Decimal("2")),),
                      tax_percent=Decimal("18"))
    quoted = quote(uow, item_id="room-101", customer_id="alice", quantity=2, clock=clock,
                   charges=charges)
    booking = world.hold("alice", quantity=2, charges=charges)
    assert booking.pricing == quoted
    assert booking.pricing.total_amount == Decimal("3610.80")
    assert booking.pricing.wallet_applied == Decimal("500.00")
    assert booking.pricing.gateway_payable == Decimal("3110.80")
    assert world.booking(booking.id).pricing == quoted


def test_a_hold_reads_only_the_buyers_wallet_in_the_items_currency(world: World) -> None:
    # The capacity, price and wallet are read in one UPDATE ... RETURNING; its wallet subquery must
    # match the item's currency and the buyer, not any wallet row.
    world.item(price="1000.00", currency="INR")
    world.fund("alice", "500.00", currency="USD")
    world.fund("bob", "700.00", currency="INR")
    assert world.hold("alice").pricing.wallet_applied == Decimal("0.00")
    world.fund("alice", "200.00", currency="INR")
    booking = world.hold("alice")
    assert (booking.pricing.wallet_applied, booking.pricing.gateway_payable) == (
        Decimal("200.00"), Decimal("800.00"))
    assert world.hold("bob").pricing.wallet_applied == Decimal("700.00")
    assert world.available() == 2


def test_a_hold_its_pricing_refuses_takes_no_capacity(world: World) -> None:
    # Capacity is taken before pricing runs, in the same transaction: a refusal must undo it.
    world.item(capacity=2)
    usd_fee = Charges(fees=(Fee(name="service", kind=FeeKind.FIXED, value=Decimal("5.00"),
                                currency="USD"),))
    with pytest.raises(CurrencyMismatch):
        world.hold("alice", charges=usd_fee)
    assert world.available() == 2
    assert world.hold("alice").status is BookingStatus.HELD
    assert world.available() == 1


def test_unknown_item_is_refused(world: World) -> None:
    with pytest.raises(InventoryItemNotFound):
        world.hold(item_id="nope")


def test_a_repeated_booking_id_returns_the_same_hold(world: World, uow: UnitOfWork,
                                                     clock: ManualClock) -> None:
    world.item(capacity=5)
    first = place_hold(uow, item_id="room-101", customer_id="alice", quantity=2, clock=clock,
                       booking_id="b-1")
    again = place_hold(uow, item_id="room-101", customer_id="alice", quantity=2, clock=clock,
                       booking_id="b-1")
    assert (first.outcome, again.outcome) == (HoldOutcome.CREATED, HoldOutcome.EXISTS)
    assert again.booking == first.booking
    assert world.available() == 3
    with pytest.raises(IdempotencyConflict):
        place_hold(uow, item_id="room-101", customer_id="alice", quantity=3, clock=clock,
                   booking_id="b-1")


SAVE10 = PromoCode(code="SAVE10", kind=PromoKind.PERCENTAGE, value=Decimal("10"))
FIRST_REQUEST: dict[str, object] = {
    "item_id": "room-101", "customer_id": "alice", "quantity": 1, "promo_code": "save10",
    "charges": Charges(fees=(Fee(name="service", kind=FeeKind.PERCENTAGE, value=Decimal("2.50")),),
                       tax_percent=Decimal("18")),
    "hold_ttl": timedelta(minutes=10)}


@pytest.mark.parametrize(("field", "value"), [
    ("item_id", "room-102"), ("customer_id", "bob"), ("quantity", 2), ("promo_code", None),
    ("promo_code", "OTHER"), ("charges", Charges(tax_percent=Decimal("18"))),
    ("hold_ttl", timedelta(minutes=15)),
])
def test_a_retry_with_a_different_request_is_refused_naming_what_differs(
        world: World, uow: UnitOfWork, clock: ManualClock, field: str, value: object) -> None:
    world.item(capacity=5)
    world.item("room-102", capacity=5)
    add_promo_code(uow, SAVE10)
    first = place_hold(uow, clock=clock, booking_id="b-1", **FIRST_REQUEST)  # type: ignore[arg-type]
    with pytest.raises(IdempotencyConflict) as refused:
        place_hold(uow, clock=clock, booking_id="b-1",
                   **(FIRST_REQUEST | {field: value}))  # type: ignore[arg-type]
    assert refused.value.details["differs"] == [field]
    assert refused.value.to_dict()["details"]["differs"] == [field]
    assert world.booking("b-1") == first.booking
    assert (world.available(), world.available("room-102")) == (4, 5)


def test_a_retry_of_the_same_request_spelled_differently_returns_the_hold(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    world.item(capacity=5)
    add_promo_code(uow, SAVE10)
    first = place_hold(uow, clock=clock, booking_id="b-1", **FIRST_REQUEST)  # type: ignore[arg-type]
    clock.advance(timedelta(minutes=1))
    respelled = FIRST_REQUEST | {
        "promo_code": " SAVE10 ", "hold_ttl": timedelta(seconds=600),
        "charges": Charges(fees=(Fee(name="service", kind=FeeKind.PERCENTAGE, value=Decimal("2.5")),),
                           tax_percent=Decimal("18.000"))}
    again = place_hold(uow, clock=clock, booking_id="b-1", **respelled)  # type: ignore[arg-type]
    assert (again.outcome, again.booking) == (HoldOutcome.EXISTS, first.booking)
    assert world.available() == 4


@pytest.mark.parametrize("bad", [
    {"quantity": 0}, {"quantity": -1}, {"quantity": True}, {"hold_ttl": timedelta(0)},
    {"hold_ttl": timedelta(minutes=-5)}, {"hold_ttl": 600}, {"hold_ttl": timedelta(days=2)},
    {"customer": ""}, {"customer": " padded "}, {"customer": "x" * 65}, {"booking_id": "a\nb"},
])
def test_bad_hold_requests_are_refused_and_change_nothing(world: World, bad: dict[str, object]) -> None:
    world.item(capacity=2)
    with pytest.raises(InvalidInput):
        world.hold(**bad)  # type: ignore[arg-type]
    assert world.available() == 2


def test_naive_clock_is_refused(world: World, uow: UnitOfWork) -> None:
    world.item()

    class NaiveClock:
        def now(self) -> datetime:
            return datetime(2026, 1, 1)

    with pytest.raises(InvalidInput):
        place_hold(uow, item_id="room-101", customer_id="alice", quantity=1, clock=NaiveClock())
    assert world.available() == 5


def test_a_promo_use_is_reserved_by_a_hold_and_given_back_by_expiry(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    world.item(capacity=5)
    add_promo_code(uow, PromoCode(code="ONCE", kind=PromoKind.PERCENTAGE, value=Decimal("50"),
                                  max_uses=1))
    first = world.hold("alice", promo_code="once")
    assert first.pricing.discount == Decimal("500.00")
    second = world.hold("bob", promo_code="ONCE")
    assert second.pricing.promo_refusal is PromoRefusal.USAGE_LIMIT_REACHED
    assert second.pricing.discount == 0
    clock.advance(timedelta(minutes=10))
    expire_holds(uow, clock=clock)
    third = world.hold("carol", promo_code="Once")
    assert third.pricing.promo_code == "ONCE" and third.pricing.discount == Decimal("500.00")


def test_per_customer_promo_limit_counts_confirmed_bookings(world: World, uow: UnitOfWork) -> None:
    world.item(capacity=5)
    add_promo_code(uow, PromoCode(code="MINE", kind=PromoKind.FIXED, value=Decimal("100"),
                                  currency="INR", max_uses_per_customer=1))
    first = world.hold("alice", promo_code="mine")
    world.pay(first)
    again = world.hold("alice", promo_code="mine")
    assert again.pricing.promo_refusal is PromoRefusal.CUSTOMER_LIMIT_REACHED
    other = world.hold("bob", promo_code="mine")
    assert other.pricing.discount == Decimal("100.00")


def test_holding_logs_a_booking_held_line(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.item()
    with caplog.at_level(logging.INFO, logger="bookcore"):
        booking = world.hold()
    [line] = [r for r in caplog.records if getattr(r, "bookcore_event", None) == "BOOKING_HELD"]
    assert line.getMessage().startswith("[BOOKING_HELD] ")
    assert f"booking_id={booking.id}" in line.getMessage()
    assert line.__dict__["bookcore_fields"]["expires_at"] == booking.expires_at.isoformat()


def test_new_ids_are_version_4_uuids_and_do_not_repeat() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert (parsed.hex, parsed.version, parsed.variant) == (value, 4, uuid.RFC_4122)
