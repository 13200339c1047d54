"""Read-only lookups for support screens and the CLI. Each is one transaction that changes nothing."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from bookcore.clock import Clock, ensure_utc, now_from
from bookcore.errors import BookingNotFound, InvalidInput, InventoryItemNotFound, NotAuthorized
from bookcore.holds import seconds_left
from bookcore.model import Actor, Booking, BookingStatus, InventoryItem, Payment, Refund, check_id
from bookcore.money import in_money_context
from bookcore.ports import UnitOfWork
from bookcore.transactions import read
from bookcore.values import FrozenModel

MAX_PAGE = 100


class BookingDetails(FrozenModel):
    """A booking with its countdown, the payments recorded for it and the refunds made."""

    booking: Booking
    seconds_left: int
    payments: tuple[Payment, ...]
    refunds: tuple[Refund, ...]


class BookingPage(FrozenModel):
    """One page of a customer's bookings, newest first; pass ``next_cursor`` for the next page
    (None: this was the last)."""

    bookings: tuple[Booking, ...]
    next_cursor: str | None


@in_money_context
def booking_details(uow: UnitOfWork, *, booking_id: str, clock: Clock,
                    actor: Actor | None = None) -> BookingDetails:
    """Everything known about one booking; ``BookingNotFound`` if there is no such booking. With
    ``actor``, only the booking's customer or staff may see it (``NotAuthorized``)."""
    check_id(booking_id, field="booking_id")
    _check_actor(actor)
    now = now_from(clock)

    def query(uow: UnitOfWork) -> BookingDetails:
        booking = uow.bookings.get(booking_id)
        if booking is None:
            raise BookingNotFound("no booking with this id", booking_id=booking_id)
        if actor is not None and not actor.may_act_for(booking.customer_id):
            raise NotAuthorized("only the booking's customer or staff may see it", field="actor",
                                booking_id=booking_id, actor=actor.id)
        return BookingDetails(booking=booking, seconds_left=seconds_left(booking, now),
                              payments=tuple(uow.payments.for_booking(booking_id)),
                              refunds=tuple(uow.refunds.for_booking(booking_id)))

    return read(uow, query)


@in_money_context
def inventory_items(uow: UnitOfWork, *, item_id: str | None = None) -> list[InventoryItem]:
    """One item (``InventoryItemNotFound`` if absent) or all of them."""
    if item_id is None:
        return read(uow, lambda uow: list(uow.inventory.list()))
    check_id(item_id, field="item_id")
    item = read(uow, lambda uow: uow.inventory.get(item_id))
    if item is None:
        raise InventoryItemNotFound("no inventory item with this id", item_id=item_id)
    return [item]


def list_bookings(uow: UnitOfWork, *, customer_id: str, status: BookingStatus | None = None,
                  limit: int = 20, cursor: str | None = None) -> BookingPage:
    """A customer's bookings, newest first (by ``reserved_at``, then id), ``limit`` at a time.

    ``cursor`` is the ``next_cursor`` of the previous page, opaque to callers; pages stay stable
    while new bookings arrive (they sort before the first page)."""
    check_id(customer_id, field="customer_id")
    if status is not None and not isinstance(status, BookingStatus):
        raise InvalidInput("status must be None or a BookingStatus", field="status", value=status)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be an int from 1 to {MAX_PAGE}", field="limit", value=limit)
    before = None if cursor is None else _decode(cursor)

    def query(uow: UnitOfWork) -> BookingPage:
        found = list(uow.bookings.newest(customer_id=customer_id, status=status, before=before,
                                         limit=limit + 1))
        page, more = found[:limit], len(found) > limit
        return BookingPage(bookings=tuple(page), next_cursor=_encode(page[-1]) if more else None)

    return read(uow, query)


def _check_actor(actor: object) -> None:
    if actor is not None and not isinstance(actor, Actor):
        raise InvalidInput("actor must be None or an Actor", field="actor", value=actor)


def _encode(last: Booking) -> str:
    position = json.dumps([last.reserved_at.isoformat(), last.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def _decode(cursor: object) -> tuple[datetime, str]:
    refused = InvalidInput("cursor is not a next_cursor list_bookings returned", field="cursor",
                           value=cursor)
    if not isinstance(cursor, str) or len(cursor) > 400:
        raise refused
    try:
        reserved_at, booking_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return ensure_utc(datetime.fromisoformat(reserved_at), field="cursor"), check_id(
            booking_id, field="cursor")
    except (ValueError, TypeError, binascii.Error, InvalidInput):
        raise refused from None
