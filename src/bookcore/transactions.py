"""Running a service's work in one transaction, with retries for conflicts the database resolved
by aborting us (deadlock, serialization failure, a connection lost mid-transaction), and logging
only what committed.

Retrying here is also how a dead pooled connection is survived: the first statement on it fails,
the pool is invalidated, and the retry runs on a fresh connection. That makes a ping before every
checkout (``pool_pre_ping``), one more round trip per transaction, unnecessary."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from bookcore.clock import SystemClock
from bookcore.errors import InvalidInput, TransientConflict
from bookcore.logs import Event, emit
from bookcore.ports import UnitOfWork

T = TypeVar("T")
Query = Callable[[UnitOfWork], T]
#: Runs of one service call at most: SERIALIZABLE transactions on one hot row abort each other
#: often (all but one of every group that overlaps), and each must eventually win.
ATTEMPTS = 20
MAX_BACKOFF_S = 0.2

Work = Callable[[UnitOfWork, list[Event]], T]


def in_transaction(uow: UnitOfWork, work: Work[T], *, attempts: int = ATTEMPTS) -> T:
    """Run ``work`` in a fresh transaction and commit; retry it whole on ``TransientConflict``
    (unless the unit of work is inside a caller's transaction, which only the caller can retry);
    log its events once it committed for good."""
    check_unit_of_work(uow)
    if not getattr(uow, "can_retry", True):
        attempts = 1
    for attempt in range(1, attempts + 1):
        events: list[Event] = []
        try:
            with uow:
                result = work(uow, events)
                if events:
                    uow.events.append(events, SystemClock().now())
                uow.commit()
        except TransientConflict:
            if attempt == attempts:
                raise
            back_off(attempt)
            continue
        uow.after_commit(partial(emit, events))
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def read(uow: UnitOfWork, query: Query[T], *, attempts: int = ATTEMPTS) -> T:
    """Run a read-only ``query`` in a fresh transaction (rolled back); retry on ``TransientConflict``."""
    check_unit_of_work(uow)
    if not getattr(uow, "can_retry", True):
        attempts = 1
    for attempt in range(1, attempts + 1):
        try:
            with uow:
                return query(uow)
        except TransientConflict:
            if attempt == attempts:
                raise
            back_off(attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def check_unit_of_work(uow: object) -> None:
    """The transaction half of the ``UnitOfWork`` protocol; its repositories exist only inside
    ``with uow:`` on some adapters."""
    if not all(callable(getattr(uow, name, None)) for name in ("__enter__", "__exit__", "commit",
                                                                  "rollback", "after_commit")):
        raise InvalidInput("uow must be a unit of work (SqlAlchemyUnitOfWork, InMemoryUnitOfWork)",
                           field="uow", value=type(uow).__name__)


def back_off(attempt: int) -> None:
    """Wait a random moment, longer after each conflict in a row, before running again, so that
    transactions that keep aborting each other (SERIALIZABLE under contention) stop colliding in
    lockstep: full jitter, as CockroachDB and AWS recommend for retry loops."""
    time.sleep(random.uniform(0, min(MAX_BACKOFF_S, 0.004 * 2 ** attempt)))
