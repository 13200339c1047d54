"""What the repositories need from the unit of work: run a statement in its transaction."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Executable

from bookcore.adapters.sqlalchemy.prepared import Prepared


class Runner(Protocol):
    dialect_name: str
    #: The dialect runs UPDATE ... RETURNING (SQLite 3.35+, PostgreSQL; not MariaDB/MySQL).
    update_returning: bool
    #: The database runs INSERT/UPDATE inside WITH (PostgreSQL; not SQLite or MariaDB/MySQL).
    writes_in_ctes: bool

    def run(self, statement: Executable | Prepared, parameters: Any = None) -> Any:
        """Execute in the current transaction, translating driver errors; the driver's Result."""
