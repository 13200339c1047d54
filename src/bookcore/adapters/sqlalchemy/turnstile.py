"""Units of work that queue in the process, in arrival order, each woken only when it is its turn.

SQLite: every bookcore transaction takes the database's single write lock at BEGIN. Threads that
find it taken wait inside SQLite's busy handler, which sleeps 1 to 100 ms between tries, so the
thread that just committed usually takes the lock again first: at 64 clients some waited three
seconds, and throughput fell as clients grew, because waiters kept waking to compete for the GIL
with the thread holding the lock. One turn per engine (``permits=1``) queues them here instead.

Servers: a pool of N connections shared by more threads has the same fault. A returned connection
wakes one waiter, but the thread that returned it usually takes it again first (it still has the
GIL); the woken thread finds nothing and sleeps again, and some waited two seconds. N turns per
engine, one per connection the pool can give, queue units of work before they ask the pool, so a
unit of work that gets a turn finds a connection free (unless the app's own code holds some).

A plain lock or semaphore is not enough: the releasing thread re-acquires it before a woken waiter
gets the GIL (tried on SQLite; it was slower than SQLite's own waiting). A freed turn is handed
over, never re-raced. Other processes still meet at the database's own locks, as before.
"""

from __future__ import annotations

import threading
from collections import deque


class Turnstile:
    """A first-in, first-out semaphore of ``permits`` turns; a freed turn passes directly to the
    longest waiter."""

    def __init__(self, timeout: float, permits: int = 1) -> None:
        if permits < 1:
            raise ValueError("a turnstile needs at least one turn")
        #: Seconds a unit of work waits for its turn before giving up (SQLite's busy timeout, or
        #: the pool's own timeout).
        self.timeout = timeout
        #: How many hold a turn at once at most.
        self.permits = permits
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._free = permits

    @property
    def waiting(self) -> int:
        """How many callers wait for a turn now."""
        return len(self._waiting)

    def enter(self) -> bool:
        """Wait for this caller's turn; False if ``timeout`` passed first (nothing is held then)."""
        with self._mutex:
            if self._free:  # a free turn means nobody waits: leave() hands turns to waiters first
                self._free -= 1
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=self.timeout):
            return True
        with self._mutex:
            if turn in self._waiting:
                self._waiting.remove(turn)
                return False
        # The holder handed the turn over just as the wait ran out: it is ours, so take it.
        return True

    def leave(self) -> None:
        """End this caller's turn, handing it to the longest waiter if there is one."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()  # still taken: the waiter owns it now
            else:
                self._free += 1
