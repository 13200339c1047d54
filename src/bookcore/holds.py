"""Holding inventory for a fixed window, and expiring holds that lapse.

Capacity is taken with one conditional update, so concurrent holds can never oversell. A hold that
would fail for lack of capacity first reclaims the item's lapsed holds in the same transaction,
so capacity never waits for the sweeper.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from bookcore.clock import Clock, ensure_utc, now_from
from bookcore.errors import (
    AlreadyExists,
    IdempotencyConflict,
    InsufficientInventory,
    InvalidInput,
    InventoryItemNotFound,
    TransientConflict,
)
from bookcore.hold_requests import differences, fingerprint
from bookcore.logs import Event, event
from bookcore.model import (
    DEFAULT_HOLD_TTL,
    Booking,
    BookingStatus,
    ExpiredHold,
    InventoryItem,
    check_hold_ttl,
    check_id,
    new_id,
)
from bookcore.money import in_money_context
from bookcore.ports import UnitOfWork
from bookcore.pricing import NO_CHARGES, Charges, Pricing, calculate_pricing, check_charges, check_quantity
from bookcore.promos import NO_USAGE, normalize_code
from bookcore.transactions import in_transaction, read
from bookcore.values import FrozenModel, check_text

DEFAULT_BATCH_SIZE = 500
#: Lapsed holds reclaimed at most per item when a hold finds it short; the sweeper does the rest.
RECLAIM_LIMIT = 1000


class HoldOutcome(StrEnum):
    CREATED = "created"
    EXISTS = "exists"


class HoldResult(FrozenModel):
    outcome: HoldOutcome
    booking: Booking


class ExpiryResult(FrozenModel):
    expired_bookings: int
    released_units: int
    batches: int


def seconds_left(booking: Booking, now: datetime) -> int:
    """Whole seconds until the hold lapses, from the stored ``expires_at``; 0 once it has."""
    if not isinstance(booking, Booking):
        raise InvalidInput("booking must be a Booking", field="booking", value=booking)
    now = ensure_utc(now)
    if booking.status is not BookingStatus.HELD:
        return 0
    remaining = (booking.expires_at - now).total_seconds()
    return max(0, math.ceil(remaining))


def _check_request(*, item_id: object, customer_id: object, quantity: object,
                   promo_code: object, charges: object) -> None:
    check_id(item_id, field="item_id")
    check_id(customer_id, field="customer_id")
    check_quantity(quantity)
    if promo_code is not None:
        check_text(promo_code, field="promo_code")
    check_charges(charges)


def _item(uow: UnitOfWork, item_id: str) -> InventoryItem:
    item = uow.inventory.get(item_id)
    if item is None:
        raise InventoryItemNotFound("no inventory item with this id", item_id=item_id)
    return item


def _price(uow: UnitOfWork, *, item: InventoryItem, customer_id: str, quantity: int,
           promo_code: str | None, charges: Charges, now: datetime, lock_promo: bool) -> Pricing:
    promo, usage = None, NO_USAGE
    if promo_code is not None:
        code = normalize_code(promo_code)
        promo = uow.promos.get(code, for_update=lock_promo)
        if promo is not None:
            usage = uow.bookings.promo_usage(code, customer_id, now)
    return calculate_pricing(
        unit_price=item.unit_price, quantity=quantity, currency=item.currency, now=now,
        promo_code=promo_code, promo=promo, promo_usage=usage, fees=charges.fees,
        tax_percent=charges.tax_percent,
        wallet_balance=uow.wallets.balance(customer_id, item.currency),
    )


@in_money_context
def quote(uow: UnitOfWork, *, item_id: str, customer_id: str, quantity: int, clock: Clock,
          promo_code: str | None = None, charges: Charges = NO_CHARGES) -> Pricing:
    """Price a prospective booking exactly as ``place_hold`` would, without holding anything."""
    _check_request(item_id=item_id, customer_id=customer_id, quantity=quantity,
                   promo_code=promo_code, charges=charges)
    now = now_from(clock)

    def query(uow: UnitOfWork) -> Pricing:
        return _price(uow, item=_item(uow, item_id), customer_id=customer_id, quantity=quantity,
                      promo_code=promo_code, charges=charges, now=now, lock_promo=False)

    return read(uow, query)


def expire_claimed(uow: UnitOfWork, events: list[Event], claimed: list[ExpiredHold],
                   now: datetime) -> int:
    """Expire holds ``claim_lapsed`` just locked and give back their capacity; returns the units.

    Capacity first, then the bookings' status: the lock order every service keeps (items before
    writes to their bookings, docs/scaling.md), which MariaDB's foreign-key checks need too."""
    units = Counter[str]()
    expired_at = now.isoformat()
    for hold in claimed:
        units[hold.item_id] += hold.quantity
        events.append(event("BOOKING_EXPIRED", booking_id=hold.booking_id, item_id=hold.item_id,
                            customer_id=hold.customer_id, quantity=hold.quantity,
                            expired_at=expired_at))
    uow.inventory.release(units)
    uow.bookings.mark_expired([hold.booking_id for hold in claimed], now)
    return units.total()


@in_money_context
def place_hold(uow: UnitOfWork, *, item_id: str, customer_id: str, quantity: int, clock: Clock,
               promo_code: str | None = None, charges: Charges = NO_CHARGES,
               hold_ttl: timedelta = DEFAULT_HOLD_TTL, booking_id: str | None = None) -> HoldResult:
    """Price the booking, take its capacity and store it HELD until ``now + hold_ttl``.

    Pass ``booking_id`` to make the call idempotent: a retry with the same request returns the
    stored booking (outcome ``exists``), also when it races the first call; the same id with a
    different item, customer, quantity, promo code, charges or hold length raises
    ``IdempotencyConflict`` naming what differs (``details["differs"]``).
    Raises ``InsufficientInventory`` when the item cannot cover ``quantity``.
    """
    # Before the statement that takes capacity binds any of them.
    _check_request(item_id=item_id, customer_id=customer_id, quantity=quantity,
                   promo_code=promo_code, charges=charges)
    check_hold_ttl(hold_ttl)
    if booking_id is not None:
        check_id(booking_id, field="booking_id")
    request = fingerprint(item_id=item_id, customer_id=customer_id, quantity=quantity,
                          promo_code=promo_code, charges=charges, hold_ttl=hold_ttl)
    now = now_from(clock)

    def stored(uow: UnitOfWork) -> HoldResult | None:
        """The booking an earlier call with this ``booking_id`` made, if this request is its."""
        existing = None if booking_id is None else uow.bookings.get(booking_id)
        if existing is None:
            return None
        if differs := differences(existing, request):
            raise IdempotencyConflict("booking id already used for a different hold request",
                                      field="booking_id", booking_id=booking_id, differs=differs)
        return HoldResult.trusted(outcome=HoldOutcome.EXISTS, booking=existing)

    def work(uow: UnitOfWork, events: list[Event]) -> HoldResult:
        if (earlier := stored(uow)) is not None:
            return earlier
        # Priced before capacity is taken, so the item's row, which every hold on it queues for,
        # stays locked for the take, the INSERT and the commit only. A promo code's row is
        # locked first (the lock order in docs/scaling.md): its uses are counted under it.
        item = _item(uow, item_id)
        pricing = _price(uow, item=item, customer_id=customer_id, quantity=quantity,
                         promo_code=promo_code, charges=charges, now=now,
                         lock_promo=promo_code is not None)
        if not uow.inventory.take(item_id, quantity):
            reclaimed = uow.bookings.claim_lapsed(now, RECLAIM_LIMIT, item_id=item_id)
            expire_claimed(uow, events, reclaimed, now)
            if not (reclaimed and uow.inventory.take(item_id, quantity)):
                # A call with this booking_id may have taken the last units while we waited.
                if (earlier := stored(uow)) is not None:
                    return earlier
                current = uow.inventory.get(item_id)
                raise InsufficientInventory(
                    "not enough capacity left for this hold", item_id=item_id, requested=quantity,
                    available=current.available if current else 0)
        booking = Booking.trusted(id=booking_id or new_id(), item_id=item_id,
                                  customer_id=customer_id, quantity=quantity,
                                  status=BookingStatus.HELD, pricing=pricing, reserved_at=now,
                                  expires_at=now + hold_ttl, confirmed_at=None, expired_at=None,
                                  cancelled_at=None, request_fingerprint=request)
        try:
            uow.bookings.add(booking)
        except AlreadyExists as error:
            # A call with this booking_id committed it meanwhile: running again replays it.
            raise TransientConflict("a hold with this booking_id was just placed; run again",
                                    booking_id=booking.id) from error
        events.append(event("BOOKING_HELD", booking_id=booking.id, item_id=item_id,
                            customer_id=customer_id, quantity=quantity,
                            total_amount=pricing.total_amount, currency=pricing.currency,
                            promo_code=pricing.promo_code, reserved_at=now.isoformat(),
                            expires_at=booking.expires_at.isoformat()))
        return HoldResult.trusted(outcome=HoldOutcome.CREATED, booking=booking)

    return in_transaction(uow, work)


@in_money_context
def expire_holds(uow: UnitOfWork, *, clock: Clock, batch_size: int = DEFAULT_BATCH_SIZE,
                 max_batches: int | None = None,
                 on_batch: Callable[[int, int], None] | None = None) -> ExpiryResult:
    """Expire HELD bookings whose ``expires_at`` has passed and release their capacity.

    Works in batches of ``batch_size``, one transaction each, so a run cut off part way keeps
    what it finished and the next run picks up the rest. Idempotent, and safe with several
    sweepers at once: each booking expires exactly once. Never touches a hold before its time.
    ``on_batch(expired, released)`` is called after each committed batch (for progress output).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 100_000:
        raise InvalidInput("batch_size must be an int from 1 to 100000", field="batch_size",
                           value=batch_size)
    if max_batches is not None and (isinstance(max_batches, bool) or not isinstance(max_batches, int)
                                    or max_batches < 0):
        raise InvalidInput("max_batches must be None or an int of at least 0", field="max_batches",
                           value=max_batches)
    if on_batch is not None and not callable(on_batch):
        raise InvalidInput("on_batch must be None or a callable", field="on_batch", value=on_batch)
    now = now_from(clock)
    expired_total = released_total = batches = 0

    def one_batch(uow: UnitOfWork, events: list[Event]) -> tuple[int, int]:
        claimed = uow.bookings.claim_lapsed(now, batch_size)
        return len(claimed), expire_claimed(uow, events, claimed, now)

    while max_batches is None or batches < max_batches:
        expired, released = in_transaction(uow, one_batch)
        batches += 1
        expired_total += expired
        released_total += released
        if on_batch is not None:
            on_batch(expired, released)
        if expired < batch_size:
            break
    return ExpiryResult(expired_bookings=expired_total, released_units=released_total,
                        batches=batches)
