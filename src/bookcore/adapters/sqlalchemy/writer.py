"""The one connection an engine's SQLite transactions take turns on.

SQLite runs one write transaction at a time, and bookcore's units of work on a SQLite file already
take turns per engine (turnstile.py). Checking a pooled connection out and back in around every
turn bought nothing and cost a fifth of a payment's CPU: the pool's queue, its bookkeeping and a
reset-on-return rollback of a transaction the unit of work had already ended. So the turn comes
with a connection. The first turn takes one from the engine's pool and detaches it: the pool
keeps its full size for anyone else, and no "connection never returned" warning can fire for it.
Each turn after reuses it, and its DBAPI cursor, while it stays valid. A lost or failed connection
is dropped and the next turn takes a fresh one; ``engine.dispose()`` retires the current one, as
it closes the pool's.

Only the holder of the turn takes or puts back the connection; the lock guards against
``dispose`` from another thread.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy.pool import PoolProxiedConnection

from bookcore.adapters.sqlalchemy.group_commit import GroupCommit
from bookcore.adapters.sqlalchemy.turnstile import Turnstile


class SharedWriter:
    """The turnstile of an engine's SQLite transactions and the connection that comes with a turn."""

    def __init__(self, turnstile: Turnstile, group: GroupCommit | None = None) -> None:
        self.turnstile = turnstile
        #: Where concurrent callers' transactions queue to commit as one, or None (group_commit.py).
        self.group = group
        self._lock = threading.Lock()
        self._parked: PoolProxiedConnection | None = None
        self._cursor: Any = None  # the parked connection's, or None
        self._generation = 0  # moves on at each dispose: connections from before are not reused

    def take(self) -> tuple[PoolProxiedConnection | None, Any, int]:
        """The connection the last turn left and its cursor (None: take new ones), and the
        generation to give back with them."""
        with self._lock:
            parked, cursor = self._parked, self._cursor
            self._parked = self._cursor = None
            return parked, cursor, self._generation

    def put_back(self, connection: PoolProxiedConnection, cursor: Any, generation: int) -> None:
        """Keep ``connection``, its transaction ended, and ``cursor`` (one of its, or None) for the
        next turn; close them if the engine was disposed since they were taken."""
        with self._lock:
            if generation == self._generation and self._parked is None:
                self._parked, self._cursor = connection, cursor
                return
        _close_quietly(connection, cursor)

    def retire(self) -> None:
        """The engine was disposed: close the parked connection; one in use is closed when it comes back."""
        with self._lock:
            parked, cursor = self._parked, self._cursor
            self._parked = self._cursor = None
            self._generation += 1
        if parked is not None:
            _close_quietly(parked, cursor)


def _close_quietly(connection: PoolProxiedConnection, cursor: Any) -> None:
    with contextlib.suppress(Exception):  # closing a connection that is already broken fails too
        if cursor is not None:
            cursor.close()
        connection.close()
