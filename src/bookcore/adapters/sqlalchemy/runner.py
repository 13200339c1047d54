"""What the repositories need from the unit of work: run a statement in its transaction."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Executable
from sqlalchemy.engine import CursorResult


class Runner(Protocol):
    dialect_name: str

    def run(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]:
        """Execute in the current transaction, translating driver errors."""
