"""The booking repository: conditional status changes and the claim-then-mark expiry sweep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update

from bookcore.adapters.sqlalchemy import rows
from bookcore.adapters.sqlalchemy.runner import Runner
from bookcore.adapters.sqlalchemy.tables import bookings
from bookcore.errors import AlreadyExists, StorageError
from bookcore.model import Booking, BookingStatus, ExpiredHold
from bookcore.promos import PromoUsage

HELD = BookingStatus.HELD.value
MARK_CHUNK = 1000
#: What the sweep needs of each booking it expires, in ``ExpiredHold``'s field order.
_SWEPT = (bookings.c.id, bookings.c.item_id, bookings.c.customer_id, bookings.c.quantity)
_SAVE = (update(bookings)
         .where(bookings.c.id == bindparam("booking_id"), bookings.c.status == bindparam("expected"))
         .values(status=bindparam("new_status"), confirmed_at=bindparam("confirmed"),
                 expired_at=bindparam("expired"), cancelled_at=bindparam("cancelled")))


def _lapsed(now: datetime, item_id: str | None = None) -> Any:
    condition = and_(bookings.c.status == HELD, bookings.c.expires_at <= now)
    return condition if item_id is None else and_(condition, bookings.c.item_id == item_id)


class SqlBookingRepository:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def add(self, booking: Booking) -> None:
        try:
            self._db.run(insert(bookings), rows.booking_values(booking))
        except AlreadyExists as error:
            raise AlreadyExists("a booking with this id exists", booking_id=booking.id) from error

    def get(self, booking_id: str, *, for_update: bool = False) -> Booking | None:
        # SQLite compiles FOR UPDATE away; its transactions hold the write lock from BEGIN IMMEDIATE.
        query = select(bookings).where(bookings.c.id == booking_id)
        if for_update:
            query = query.with_for_update()
        row = self._db.run(query).mappings().first()
        return rows.booking_from(row) if row else None

    def save(self, booking: Booking, *, expected_status: BookingStatus) -> bool:
        result = self._db.run(_SAVE, {
            "booking_id": booking.id, "expected": expected_status.value,
            "new_status": booking.status.value, "confirmed": booking.confirmed_at,
            "expired": booking.expired_at, "cancelled": booking.cancelled_at})
        return result.rowcount == 1

    def claim_lapsed(self, now: datetime, limit: int, *, item_id: str | None = None) -> list[ExpiredHold]:
        # Found without locks, then locked by primary key with SKIP LOCKED: locking through the
        # (status, expires_at) index would leave InnoDB's locks on index entries of rows it skips,
        # which a payment changing that booking's status then waits for (a deadlock once the
        # sweep waits for that payment's item). Rows others hold are skipped and the search goes
        # on past them, so concurrent sweepers take disjoint, full batches.
        claimed: list[ExpiredHold] = []
        after: tuple[datetime, str] | None = None
        while len(claimed) < limit:
            query = select(bookings.c.id, bookings.c.expires_at).where(_lapsed(now, item_id))
            if after is not None:
                query = query.where(or_(bookings.c.expires_at > after[0],
                                        and_(bookings.c.expires_at == after[0], bookings.c.id > after[1])))
            candidates = self._db.run(query.order_by(bookings.c.expires_at, bookings.c.id)
                                      .limit(min(limit - len(claimed), MARK_CHUNK))).all()
            if not candidates:
                break
            after = (candidates[-1].expires_at, candidates[-1].id)
            locked = self._db.run(select(*_SWEPT, bookings.c.status, bookings.c.expires_at)
                                  .where(bookings.c.id.in_([row.id for row in candidates]))
                                  .order_by(bookings.c.id).with_for_update(skip_locked=True))
            # Re-checked on the locked rows: another transaction may have moved one meanwhile.
            claimed += [ExpiredHold(*row[:4]) for row in locked
                        if row.status == HELD and row.expires_at <= now]
        return claimed

    def mark_expired(self, booking_ids: Sequence[str], now: datetime) -> None:
        # Chunks keep every statement under the drivers' bind-parameter limits (SQLite: 32,766).
        for start in range(0, len(booking_ids), MARK_CHUNK):
            chunk = booking_ids[start:start + MARK_CHUNK]
            # The status is checked again by the UPDATE itself, never trusted from the claim.
            result = self._db.run(update(bookings)
                                  .where(bookings.c.id.in_(chunk), bookings.c.status == HELD)
                                  .values(status=BookingStatus.EXPIRED.value, expired_at=now))
            if result.rowcount != len(chunk):
                raise StorageError("a claimed hold was no longer held", claimed=len(chunk),
                                   expired=result.rowcount)

    def count_lapsed(self, now: datetime) -> tuple[int, int]:
        row = self._db.run(select(func.count(), func.coalesce(func.sum(bookings.c.quantity), 0))
                           .where(_lapsed(now))).one()
        return int(row[0]), int(row[1])

    def promo_usage(self, code: str, customer_id: str, now: datetime) -> PromoUsage:
        confirmed = BookingStatus.CONFIRMED.value
        using = or_(bookings.c.status == confirmed, bookings.c.expires_at > now)
        # The WHERE clause is only what (promo_code, status) answers; the liveness test sits in
        # the sums, where no planner can turn it into a scan of every live hold (SQLite does, as
        # most bookings have no code and its statistics then rate the promo index poorly).
        row = self._db.run(select(
            func.coalesce(func.sum(case((using, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(using, bookings.c.customer_id == customer_id), 1),
                                        else_=0)), 0),
        ).where(bookings.c.promo_code == code, bookings.c.status.in_([confirmed, HELD]))).one()
        return PromoUsage(total=int(row[0]), by_customer=int(row[1]))

    def list(self, *, status: BookingStatus | None = None, customer_id: str | None = None,
             limit: int = 100) -> Sequence[Booking]:
        query = select(bookings).order_by(bookings.c.reserved_at, bookings.c.id).limit(max(limit, 0))
        if status is not None:
            query = query.where(bookings.c.status == status.value)
        if customer_id is not None:
            query = query.where(bookings.c.customer_id == customer_id)
        return [rows.booking_from(row) for row in self._db.run(query).mappings()]

    def newest(self, *, customer_id: str, status: BookingStatus | None,
               before: tuple[datetime, str] | None, limit: int) -> Sequence[Booking]:
        query = (select(bookings).where(bookings.c.customer_id == customer_id)
                 .order_by(bookings.c.reserved_at.desc(), bookings.c.id.desc()).limit(limit))
        if status is not None:
            query = query.where(bookings.c.status == status.value)
        if before is not None:
            reserved_at, booking_id = before
            query = query.where(or_(bookings.c.reserved_at < reserved_at,
                                    and_(bookings.c.reserved_at == reserved_at,
                                         bookings.c.id < booking_id)))
        return [rows.booking_from(row) for row in self._db.run(query).mappings()]
