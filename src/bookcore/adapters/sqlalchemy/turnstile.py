"""Units of work that queue in the process for the engine's connections, each woken only when a
turn may be its own; past its patience, a waiter is served strictly in arrival order.

SQLite: every bookcore transaction takes the database's single write lock at BEGIN. Threads that
find it taken wait inside SQLite's busy handler, which sleeps 1 to 100 ms between tries, so the
thread that just committed usually takes the lock again first: at 64 clients some waited three
seconds, and throughput fell as clients grew, because waiters kept waking to compete for the GIL
with the thread holding the lock. One turn per engine (``permits=1``), handed to the longest
waiter (``patience=0``), queues them here instead.

Servers: a pool of N connections shared by more threads has the same fault. A returned connection
wakes one waiter, but the thread that returned it usually takes it again first (it still has the
GIL); the woken thread finds nothing and sleeps again, and some waited two seconds. N turns per
engine, one per connection the pool can give, queue units of work before they ask the pool, so a
unit of work that gets a turn finds a connection free (unless the app's own code holds some).

Handing every freed turn to the longest waiter bounds the waits, but on a busy host it costs
throughput: each transaction then starts on a thread that was asleep, and the connection idles
until that thread is scheduled and has the GIL (PostgreSQL on 2 CPUs, 64 threads on 5
connections: 0.66-0.68 of the throughput at 4 threads, and the raw-SQL baseline behind the same
turns lost as much; docs/benchmarks.md). So a server's turnstile has ``patience``: while the
longest waiter has waited less, a freed turn goes to whoever asks first (the woken waiter, or the
thread that just gave it back); once it has waited that long, the next freed turn is handed to it.
No wait is unbounded, and most transactions start on a thread that is already running.

A plain lock or semaphore is not enough: the releasing thread re-acquires it before a woken waiter
gets the GIL, forever if it keeps asking. Other processes still meet at the database's own locks.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class _Waiter:
    """One queued caller: sleeps on its own bell, rung when a turn is handed to it or is free."""

    __slots__ = ("bell", "handed", "ringing", "since")

    def __init__(self, since: float) -> None:
        self.bell = threading.Lock()
        self.bell.acquire()  # taken: the waiter sleeps on it until it is rung
        self.ringing = False  # rung and not yet awake: never released twice
        self.handed = False  # a turn was handed to it: it holds one when it wakes
        self.since = since

    def ring(self) -> None:
        if not self.ringing:
            self.ringing = True
            self.bell.release()


class Turnstile:
    """A semaphore of ``permits`` turns whose waiters queue in arrival order; a waiter that has
    waited ``patience`` seconds is handed the next freed turn (0: every freed turn is)."""

    def __init__(self, timeout: float, permits: int = 1, patience: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if permits < 1:
            raise ValueError("a turnstile needs at least one turn")
        if not patience >= 0:
            raise ValueError("patience is seconds, 0 or more")
        #: Seconds a unit of work waits for its turn before giving up (SQLite's busy timeout, or
        #: the pool's own timeout).
        self.timeout = timeout
        #: How many hold a turn at once at most.
        self.permits = permits
        #: Seconds the longest waiter lets others take freed turns before they are handed to it.
        self.patience = patience
        self._clock = clock
        self._mutex = threading.Lock()
        self._waiting: deque[_Waiter] = deque()
        self._free = permits

    @property
    def waiting(self) -> int:
        """How many callers wait for a turn now."""
        return len(self._waiting)

    def enter(self) -> bool:
        """Wait for this caller's turn; False if ``timeout`` passed first (nothing is held then)."""
        with self._mutex:
            if self._free and self._may_go_first():
                self._free -= 1
                return True
            me = _Waiter(self._clock())
            self._waiting.append(me)
        deadline = me.since + self.timeout
        while True:
            rung = me.bell.acquire(timeout=max(0.0, deadline - self._clock()))
            with self._mutex:
                me.ringing = False
                if me.handed:
                    return True
                if self._free or not rung:
                    self._waiting.remove(me)
                    taken = bool(self._free)
                    self._free -= taken
                    if self._free and self._waiting:  # more free turns than the one taken
                        self._waiting[0].ring()
                    return taken
                # Someone else took the freed turn first: sleep until the next one.

    def leave(self) -> None:
        """End this caller's turn: hand it to the longest waiter if that one's patience is over,
        else free it and wake that waiter to take it, unless someone asks first.

        A turn is never handed to a waiter already woken for a free one: it would take the
        handed turn and leave the free one free, with the next waiter asleep beside it."""
        with self._mutex:
            waiting = self._waiting
            if not waiting:
                self._free += 1
            elif self._free or self._may_go_first():
                self._free += 1
                waiting[0].ring()
            else:
                head = waiting.popleft()
                head.handed = True  # still rung below: it owns the turn now
                head.ring()

    def _may_go_first(self) -> bool:
        """Whether a free turn may go to a caller other than the longest waiter."""
        waiting = self._waiting
        return not waiting or self._clock() - waiting[0].since < self.patience
