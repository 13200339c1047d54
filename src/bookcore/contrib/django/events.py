"""The outbox of a ``DjangoUnitOfWork``: SQL's, noting what each block appends so that the same
events can be sent as signals when Django commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bookcore.logs import Event
from bookcore.ports import EventLog
from bookcore.stored_events import StoredEvent


class NotingEventLog:
    def __init__(self, log: EventLog, noted: Callable[[Sequence[Event]], None]) -> None:
        self._log = log
        self._noted = noted

    def append(self, events: Sequence[Event], recorded_at: datetime) -> None:
        self._log.append(events, recorded_at)
        self._noted(events)

    def high_water(self) -> int:
        return self._log.high_water()

    def read(self, after: int, up_to: int, limit: int) -> Sequence[StoredEvent]:
        return self._log.read(after, up_to, limit)

    def position(self, consumer: str, *, for_update: bool = False) -> int:
        return self._log.position(consumer, for_update=for_update)

    def move(self, consumer: str, position: int) -> None:
        self._log.move(consumer, position)
