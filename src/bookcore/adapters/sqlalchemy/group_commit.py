"""Concurrent callers' SQLite transactions committed as one: a savepoint each, one COMMIT.

SQLite runs one write transaction at a time, and an engine's units of work on a file take turns
for it (turnstile.py). Handing the turn from one caller to the next costs a thread switch: the
thread that gets it was asleep, must be woken on the other CPU and then wait for the GIL. On the
2-CPU benchmark host a hold on a hot item cost 430 us of CPU at 64 clients against 313 us alone
(switches, and caches gone cold across 64 threads), and 64 clients reached 0.73-0.79 of one
client's throughput (docs/benchmarks.md). Here a caller that finds another caller's work running
queues its own instead of queueing for the turn. The caller running (the leader) runs, after its
own work, every work queued while its transaction is open, in arrival order, each inside a
SAVEPOINT, and commits them all at once. Between the works its thread keeps running, and the group
pays for one COMMIT.

What each caller sees is what it would see alone:
- its result, and its events, only once the COMMIT holding its work has succeeded;
- its work's refusal (a ``BookcoreError`` that is not a ``StorageError``) raised in its own
  thread, the work's writes rolled back to its savepoint; the others' works still commit;
- anything else going wrong before the COMMIT (a storage error, a bug, a conflict) rolls the
  whole transaction back, and every caller runs its work again alone (``in_transaction``'s own
  path, with its retries), so no caller pays for another's failure with more than a second try;
- a COMMIT that fails: a ``TransientConflict`` (nothing was committed) sends every caller back
  to run alone; any other error is raised to every caller, as it would be to one caller alone.

The group runs on one thread and one serial transaction, so the works see one another's writes in
arrival order, as consecutive transactions would. Works run on the leader's thread with the
leader's unit of work: a work must use the unit of work it is given (bookcore's services do), and
one that commits or rolls back itself is refused in a group (it runs again alone). At most
``MAX_GROUP`` works share a COMMIT; a leader whose own call is done hands the lead to the oldest
caller still queued.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from bookcore.errors import BookcoreError, StorageError, TransientConflict
from bookcore.logs import Event

T = TypeVar("T")
#: How many callers' works share one COMMIT at most; the leader's own call waits for all of them.
MAX_GROUP = 64

_QUEUED, _DONE, _ALONE, _LEAD = "queued", "done", "alone", "lead"


class Leader(Protocol):
    """What a group needs of the leader's unit of work (``SqlAlchemyUnitOfWork``)."""

    def __enter__(self) -> Any: ...

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None: ...

    def commit(self) -> None: ...

    def grouping(self, on: bool) -> None: ...

    def savepoint(self) -> None: ...

    def release_savepoint(self) -> None: ...

    def rollback_to_savepoint(self) -> None: ...


class _Call:
    """One caller's work, and what became of it; a queued caller sleeps on ``bell`` until told."""

    __slots__ = ("bell", "error", "events", "result", "thread", "verdict", "work")

    def __init__(self, work: Callable[[Any, list[Event]], Any], thread: int) -> None:
        self.work, self.thread = work, thread
        self.events: list[Event] = []
        self.result: Any = None
        self.error: BaseException | None = None
        self.verdict = _QUEUED
        self.bell: threading.Lock | None = None  # only a caller that queues needs one

    def queue(self) -> None:
        self.bell = threading.Lock()
        self.bell.acquire()  # taken: the caller sleeps on it until it is told

    def wait(self) -> None:
        assert self.bell is not None
        self.bell.acquire()

    def tell(self, verdict: str) -> None:
        assert self.bell is not None
        self.verdict = verdict
        self.bell.release()

    def outcome(self) -> tuple[Any, list[Event]] | None:
        if self.verdict == _ALONE:
            return None
        if self.error is not None:
            raise self.error
        return self.result, self.events


class GroupCommit:
    """The queue of an engine's callers whose works commit together (see the module's docstring)."""

    def __init__(self, limit: int = MAX_GROUP) -> None:
        if limit < 1:
            raise ValueError("a group holds at least one work")
        self.limit = limit
        self._mutex = threading.Lock()
        self._queued: deque[_Call] = deque()
        self._leader: int | None = None  # the thread running a group, if one is

    @property
    def waiting(self) -> int:
        """How many callers' works are queued for the next group now."""
        return len(self._queued)

    def run(self, uow: Leader, work: Callable[[Any, list[Event]], T]) -> tuple[T, list[Event]] | None:
        """Run ``work`` in the next group to commit. ``(result, events)`` once committed; None
        if it must run alone (nothing of it was committed). Raises the work's refusal, or the
        COMMIT's failure."""
        call = _Call(work, threading.get_ident())
        with self._mutex:
            if self._leader == call.thread:  # a work that runs another: it cannot wait for its own group
                return None
            lead = self._leader is None
            if lead:
                self._leader = call.thread
            else:
                call.queue()
                self._queued.append(call)
        if not lead:
            call.wait()
            if call.verdict != _LEAD:
                return call.outcome()
        batch = [call]
        try:
            _commit_together(uow, batch, self._more)
        finally:
            self._hand_on(batch)
        return call.outcome()

    def _more(self, batch: list[_Call]) -> bool:
        """Add the callers queued meanwhile to ``batch``, up to the limit; whether any came."""
        with self._mutex:
            queued, before = self._queued, len(batch)
            while queued and len(batch) < self.limit:
                batch.append(queued.popleft())
            return len(batch) > before

    def _hand_on(self, batch: list[_Call]) -> None:
        """Tell every other caller of the batch its outcome, and pass the lead on or end it."""
        with self._mutex:
            successor = self._queued.popleft() if self._queued else None
            self._leader = None if successor is None else successor.thread
        for call in batch[1:]:
            call.tell(_ALONE if call.verdict == _QUEUED else call.verdict)
        if successor is not None:
            successor.tell(_LEAD)


def _commit_together(uow: Leader, batch: list[_Call], more: Callable[[list[_Call]], bool]) -> None:
    """Run the leader's work, then each work queued meanwhile in a savepoint of the same
    transaction, and commit it; sets each call's verdict."""
    own, committing, committed = batch[0], False, False
    try:
        with uow:
            _run_one(uow, own, in_savepoint=False)
            if own.error is None:  # else it is alone: its refusal rolls back on exit
                uow.grouping(True)
                try:
                    position = 1
                    while position < len(batch) or more(batch):
                        _run_one(uow, batch[position], in_savepoint=True)
                        position += 1
                finally:
                    uow.grouping(False)
                committing = True
                uow.commit()
                committed = True
                _set(batch, _DONE)  # from here on nothing may send a caller to run it again
    except TransientConflict:
        if not committed:  # nothing committed: each runs again alone, with in_transaction's retries
            _set(batch, _ALONE)
        return
    except Exception as failure:
        if committed:  # ending the block failed after the COMMIT: the results stand
            return
        if committing or len(batch) == 1:  # as in_transaction raises it (after COMMIT, nobody knows)
            for call in batch:
                call.error = failure
            _set(batch, _DONE)
        else:
            _set(batch, _ALONE)  # rolled back: the work that failed fails again, alone
        return
    _set(batch, _DONE)  # committed, or the leader's own refusal rolled back alone


def _run_one(uow: Leader, call: _Call, *, in_savepoint: bool) -> None:
    if in_savepoint:
        uow.savepoint()
    try:
        call.result = call.work(uow, call.events)
    except StorageError:
        raise
    except BookcoreError as refusal:
        call.error, call.events = refusal, []
        if in_savepoint:
            uow.rollback_to_savepoint()
        return
    if in_savepoint:
        uow.release_savepoint()


def _set(batch: list[_Call], verdict: str) -> None:
    for call in batch:
        call.verdict = verdict
