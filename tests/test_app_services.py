"""What an app needs around the core services: a customer's bookings page by page, ownership
checks on reads and payments, one way to pass time, and errors that serialize to JSON losslessly."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from bookcore.clock import ManualClock
from bookcore.errors import (
    BookcoreError,
    BookingNotFound,
    HoldExpired,
    InsufficientInventory,
    InvalidInput,
    NotAuthorized,
    PaymentMismatch,
)
from bookcore.lookups import booking_details, list_bookings
from bookcore.model import Actor, BookingStatus
from bookcore.ports import UnitOfWork
from tests.world import World


def test_a_customers_bookings_come_newest_first_page_by_page(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item(capacity=20)
    made = []
    for i in range(7):
        made.append(world.hold())
        if i % 2:
            clock.advance(timedelta(seconds=1))  # pairs share a reserved_at: ties go by id
    world.hold("bob")
    newest_first = sorted(made, key=lambda b: (b.reserved_at, b.id), reverse=True)
    seen, cursor, pages = [], None, 0
    while True:
        page = list_bookings(uow, customer_id="alice", limit=3, cursor=cursor)
        seen += [b.id for b in page.bookings]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [b.id for b in newest_first]
    assert pages == 3


def test_listing_by_status_and_a_forged_cursor(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item()
    paid = world.hold()
    world.pay(paid)
    world.hold()
    confirmed = list_bookings(uow, customer_id="alice", status=BookingStatus.CONFIRMED)
    assert [b.id for b in confirmed.bookings] == [paid.id]
    assert confirmed.next_cursor is None
    with pytest.raises(InvalidInput) as refused:
        list_bookings(uow, customer_id="alice", cursor="not-a-cursor")
    assert refused.value.field == "cursor"


def test_only_the_customer_or_staff_see_a_booking(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item()
    booking = world.hold()
    with pytest.raises(NotAuthorized) as refused:
        booking_details(uow, booking_id=booking.id, clock=clock, actor=Actor.customer("mallory"))
    assert refused.value.field == "actor"
    mine = booking_details(uow, booking_id=booking.id, clock=clock, actor=Actor.customer("alice"))
    staff = booking_details(uow, booking_id=booking.id, clock=clock, actor=Actor.staff("ops"))
    assert mine.booking == staff.booking == booking
    assert mine.seconds_left > 0


def test_only_the_customer_or_staff_pay_for_a_booking(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item()
    booking = world.hold()
    with pytest.raises(NotAuthorized):
        world.pay(booking, actor=Actor.customer("mallory"))
    assert world.booking(booking.id).status is BookingStatus.HELD
    assert world.pay(booking, actor=Actor.staff("ops")).booking.status is BookingStatus.CONFIRMED


def test_errors_serialize_to_json_without_losing_anything(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.item(capacity=1, price="19.99")
    booking = world.hold()
    refusals: list[BookcoreError] = []
    for attempt in (lambda: world.hold("bob"),
                    lambda: world.pay(booking, gateway=Decimal("0")),
                    lambda: booking_details(uow, booking_id="nope", clock=clock)):
        with pytest.raises(BookcoreError) as caught:
            attempt()
        refusals.append(caught.value)
    insufficient, mismatch, missing = refusals
    assert isinstance(insufficient, InsufficientInventory)
    assert isinstance(mismatch, PaymentMismatch)
    assert isinstance(missing, BookingNotFound)
    assert json.loads(json.dumps(mismatch.to_dict())) == {
        "code": "payment_mismatch", "message": "gateway amount differs from what the booking owes",
        "field": "gateway_amount", "details": {"booking_id": booking.id, "expected": "19.99",
                                               "presented": "0.00", "currency": "INR"}}
    assert insufficient.to_dict()["field"] == "quantity"
    assert insufficient.to_dict()["details"]["available"] == 0
    assert missing.to_dict()["field"] == "booking_id"
    assert all(error.field is not None for error in refusals), [e.to_dict() for e in refusals]


def test_a_datetime_in_an_error_is_iso_8601(clock: ManualClock) -> None:
    error = HoldExpired("the hold lapsed before payment", booking_id="b1", expired_at=clock.now())
    assert error.to_dict()["details"]["expired_at"] == clock.now().isoformat()
    assert InvalidInput("bad", field="limit", value=float("nan")).to_dict() == {
        "code": "invalid_input", "message": "bad", "field": "limit", "details": {"value": "nan"}}
