"""One SQLite transaction at a time per engine, in arrival order.

Every bookcore transaction on SQLite takes the database's single write lock at BEGIN. Threads
that find it taken wait inside SQLite's busy handler, which sleeps 1 to 100 ms between tries, so
the thread that just committed usually takes the lock again first: at 64 clients some waited
three seconds, and throughput fell as clients grew, because waiters kept waking to compete for the
GIL with the thread holding the lock. The turnstile queues them in the process instead and hands
the turn to the longest waiter, who alone is woken.

A plain lock is not enough: the releasing thread re-acquires it before a woken waiter gets the
GIL (tried; it was slower than SQLite's own waiting). Ownership is handed over, never re-raced.
Other processes on the same file still meet at SQLite's lock, as before.
"""

from __future__ import annotations

import threading
from collections import deque


class Turnstile:
    """A first-in, first-out lock whose turn passes directly from one holder to the next waiter."""

    def __init__(self, timeout: float) -> None:
        #: Seconds a unit of work waits for its turn before giving up (SQLite's busy timeout).
        self.timeout = timeout
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._taken = False

    @property
    def waiting(self) -> int:
        """How many callers wait for a turn now."""
        return len(self._waiting)

    def enter(self) -> bool:
        """Wait for this caller's turn; False if ``timeout`` passed first (nothing is held then)."""
        with self._mutex:
            if not self._taken:
                self._taken = True
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
                self._taken = False
