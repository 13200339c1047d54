"""The outbox on SQL: events in ``bookcore_events``, each consumer's position in
``bookcore_event_cursors``.

Positions come from an autoincrement column, so they are handed out as events are inserted, not as
their transactions commit: position 8 can be visible while 7 is still uncommitted. A reader that
then moved past 8 would never see 7. So on PostgreSQL and MariaDB every writer holds a shared
lock on a gate row (``GATE``, a cursor no consumer can be named) from its INSERT to its commit, and
``high_water`` takes that row exclusively: it waits for the writers in flight and then reads the
highest position, below which nothing can still appear. Writers share the lock, so they never wait
for each other; they wait only for a reader's brief ``high_water``. SQLite has one writer at a time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update

from bookcore.adapters.sqlalchemy.repositories import insert_if_absent
from bookcore.adapters.sqlalchemy.runner import Runner
from bookcore.adapters.sqlalchemy.tables import event_cursors, events
from bookcore.logs import Event
from bookcore.stored_events import StoredEvent, booking_of, payload_json

#: check_id refuses an empty consumer name, so the gate's row is never a consumer's cursor.
GATE = ""


class SqlEventLog:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def append(self, batch: Sequence[Event], recorded_at: datetime) -> None:
        self._lock_gate(exclusive=False)  # the last lock a service takes (docs/operations.md)
        self._db.run(insert(events), [
            {"name": item.tag, "booking_id": booking_of(item), "payload": payload_json(item.fields),
             "created_at": recorded_at} for item in batch])

    def high_water(self) -> int:
        self._lock_gate(exclusive=True)
        return int(self._db.run(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())

    def read(self, after: int, up_to: int, limit: int) -> Sequence[StoredEvent]:
        query = (select(events).where(events.c.id > after, events.c.id <= up_to)
                 .order_by(events.c.id).limit(limit))
        return [StoredEvent.trusted(position=row.id, name=row.name, booking_id=row.booking_id,
                                    payload=json.loads(row.payload), created_at=row.created_at)
                for row in self._db.run(query)]

    def position(self, consumer: str, *, for_update: bool = False) -> int:
        if for_update:
            self._ensure_cursor(consumer)
        query = select(event_cursors.c.position).where(event_cursors.c.consumer == consumer)
        value = self._db.run(query.with_for_update() if for_update else query).scalar()
        return 0 if value is None else int(value)

    def move(self, consumer: str, position: int) -> None:
        self._db.run(update(event_cursors).where(event_cursors.c.consumer == consumer)
                     .values(position=position))

    def _ensure_cursor(self, consumer: str) -> None:
        exists = select(event_cursors.c.consumer).where(event_cursors.c.consumer == consumer)
        if self._db.run(exists).first() is None:
            self._db.run(insert_if_absent(self._db.dialect_name, event_cursors,
                                          {"consumer": consumer, "position": 0}))

    def _lock_gate(self, *, exclusive: bool) -> None:
        if self._db.dialect_name == "sqlite":
            return
        query = (select(event_cursors.c.consumer).where(event_cursors.c.consumer == GATE)
                 .with_for_update(read=not exclusive))
        if self._db.run(query).first() is None:
            self._ensure_cursor(GATE)
            self._db.run(query)
