"""Read-only lookups for support screens and the CLI. Each is one transaction that changes nothing."""

from __future__ import annotations

from datetime import datetime

from bookcore.clock import ensure_utc
from bookcore.errors import BookingNotFound, InventoryItemNotFound
from bookcore.holds import seconds_left
from bookcore.model import Booking, InventoryItem, Payment, Refund, check_id
from bookcore.money import in_money_context
from bookcore.ports import UnitOfWork
from bookcore.transactions import read
from bookcore.values import FrozenModel


class BookingDetails(FrozenModel):
    """A booking with its countdown, the payments recorded for it and the refunds made."""

    booking: Booking
    seconds_left: int
    payments: tuple[Payment, ...]
    refunds: tuple[Refund, ...]


@in_money_context
def booking_details(uow: UnitOfWork, *, booking_id: str, now: datetime) -> BookingDetails:
    """Everything known about one booking; ``BookingNotFound`` if there is no such booking."""
    check_id(booking_id, field="booking_id")
    now = ensure_utc(now)

    def query(uow: UnitOfWork) -> BookingDetails:
        booking = uow.bookings.get(booking_id)
        if booking is None:
            raise BookingNotFound("no booking with this id", booking_id=booking_id)
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
