"""The transactional outbox: every event a service produces is stored in the same transaction as
the change it describes, and consumers read them in order, each from its own acknowledged position.

Delivery is at least once: a consumer that fails before acknowledging reads the same events again.
"""

from __future__ import annotations

from collections.abc import Callable

from bookcore.errors import InvalidInput
from bookcore.logs import Event
from bookcore.ports import UnitOfWork
from bookcore.stored_events import StoredEvent
from bookcore.transactions import in_transaction, read
from bookcore.values import check_id

MAX_LIMIT = 10_000


def read_events(uow: UnitOfWork, *, after: int = 0, limit: int = 100) -> tuple[StoredEvent, ...]:
    """Up to ``limit`` events with a position above ``after``, oldest first.

    Never skips one: an event whose transaction has not committed yet holds back the events after
    it (on PostgreSQL and MariaDB the read waits for such transactions to end)."""
    _check_position(after, field="after")
    _check_limit(limit)
    return read(uow, lambda uow: tuple(uow.events.read(after, uow.events.high_water(), limit)))


def consumer_position(uow: UnitOfWork, *, consumer: str) -> int:
    """The last position ``consumer`` acknowledged; 0 if it never did."""
    check_id(consumer, field="consumer")
    return read(uow, lambda uow: uow.events.position(consumer))


def acknowledge(uow: UnitOfWork, *, consumer: str, position: int) -> int:
    """Record that ``consumer`` has handled every event up to ``position``; a position at or below
    the acknowledged one changes nothing. Returns the consumer's position afterwards."""
    check_id(consumer, field="consumer")
    _check_position(position, field="position")

    def work(uow: UnitOfWork, _events: list[Event]) -> int:
        current = uow.events.position(consumer, for_update=True)
        if position > current:
            uow.events.move(consumer, position)
        return max(position, current)

    return in_transaction(uow, work)


def consume(uow: UnitOfWork, *, consumer: str, handle: Callable[[tuple[StoredEvent, ...]], None],
            limit: int = 100) -> int:
    """Hand ``consumer``'s next events (up to ``limit``) to ``handle`` and acknowledge them, in one
    transaction; returns how many were handled.

    If ``handle`` raises, nothing is acknowledged and the same events come again next time. Two
    processes of one consumer take turns: the consumer's cursor row stays locked until the batch
    is acknowledged. Different consumers never wait for each other."""
    check_id(consumer, field="consumer")
    _check_limit(limit)
    if not callable(handle):
        raise InvalidInput("handle must be a callable", field="handle", value=handle)

    # Found in a transaction of its own: waiting for writers in flight takes a lock that would
    # otherwise stay held, and hold every writer back, for as long as ``handle`` runs.
    up_to = read(uow, lambda uow: uow.events.high_water())

    def work(uow: UnitOfWork, _events: list[Event]) -> int:
        after = uow.events.position(consumer, for_update=True)
        batch = tuple(uow.events.read(after, up_to, limit))
        if batch:
            handle(batch)
            uow.events.move(consumer, batch[-1].position)
        return len(batch)

    return in_transaction(uow, work)


def _check_position(value: object, *, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{field} must be an int of at least 0", field=field, value=value)


def _check_limit(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInput(f"limit must be an int from 1 to {MAX_LIMIT}", field="limit", value=value)
