"""Fault injection for the torture run: a unit of work whose repositories sometimes blow up in the
middle of a transaction, after the real statement ran, so the rollback path is exercised."""

from __future__ import annotations

import random
from types import TracebackType
from typing import Any, Self

from bookcore.errors import TransientConflict
from bookcore.ports import UnitOfWork


class InjectedFault(RuntimeError):
    """Raised between two steps of a service, as a crash of application code would be."""


class _FaultyRepository:
    def __init__(self, inner: Any, owner: FaultyUnitOfWork) -> None:
        self._inner, self._owner = inner, owner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            self._owner.maybe_fail(name)
            return result

        return call


class FaultyUnitOfWork:
    """Wraps a real unit of work; each repository call fails afterwards with ``probability``."""

    def __init__(self, inner: UnitOfWork, rng: random.Random, probability: float) -> None:
        self._inner, self._rng, self._probability = inner, rng, probability
        self.injected = 0
        self.transactions = 0
        self.transient = 0

    def maybe_fail(self, step: str) -> None:
        if self._rng.random() < self._probability:
            self.injected += 1
            raise InjectedFault(f"injected after {step}")

    def __enter__(self) -> Self:
        self._inner.__enter__()
        self.transactions += 1
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if isinstance(exc, TransientConflict):
            self.transient += 1  # bookcore retries the whole transaction after this
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()

    def __getattr__(self, name: str) -> Any:
        if name in {"inventory", "bookings", "wallets", "payments", "refunds", "promos", "audit"}:
            return _FaultyRepository(getattr(self._inner, name), self)
        return getattr(self._inner, name)
