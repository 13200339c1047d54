"""The three implementations a client process can run, each built in that process after start:
bookcore through its public API, the raw-SQL baseline (raw.py) and the ORM pattern (peers/)."""

from __future__ import annotations

from typing import Protocol

from bench.backends import Target
from bench.work import CURRENCY, GATEWAY_PAYABLE
from bookcore import (
    Actor,
    SqlAlchemyUnitOfWork,
    SystemClock,
    cancel_booking,
    create_engine_for,
    finalize_payment,
    place_hold,
)

IMPLEMENTATIONS = ("bookcore", "raw", "orm")


class Implementation(Protocol):
    def hold(self, item: str, customer: str) -> None: ...

    def finalize(self, booking: str) -> None: ...

    def cancel(self, booking: str, customer: str) -> None: ...

    def close(self) -> None: ...


class NotDone(Exception):
    """A call returned without doing the work the benchmark asked for."""


class Bookcore:
    """bookcore as an app uses it: one engine per process (one connection: a process runs one
    call at a time), a unit of work, the system clock."""

    def __init__(self, target: Target) -> None:
        self._engine = create_engine_for(target.url, pool_size=1, max_overflow=0)
        self._uow = SqlAlchemyUnitOfWork(self._engine)
        self._clock = SystemClock()

    def close(self) -> None:
        self._engine.dispose()

    def hold(self, item: str, customer: str) -> None:
        place_hold(self._uow, item_id=item, customer_id=customer, quantity=1, clock=self._clock)

    def finalize(self, booking: str) -> None:
        result = finalize_payment(self._uow, booking_id=booking, idempotency_key=f"{booking}-key",
                                  gateway_amount=GATEWAY_PAYABLE, currency=CURRENCY, clock=self._clock)
        if not result.confirmed or result.replayed:
            raise NotDone(f"booking {booking}: {result.outcome}, replayed={result.replayed}")

    def cancel(self, booking: str, customer: str) -> None:
        result = cancel_booking(self._uow, booking_id=booking, actor=Actor(id=customer), clock=self._clock)
        if result.refund is None:
            raise NotDone(f"booking {booking} was cancelled without a refund")


def build(name: str, target: Target) -> Implementation:
    if name == "bookcore":
        return Bookcore(target)
    if name == "raw":
        from bench.raw import raw_client

        return raw_client(target)
    if name == "orm":
        from bench.peers.orm import OrmPattern, configure

        configure(target)
        return OrmPattern()
    raise ValueError(f"no implementation {name!r}; one of {', '.join(IMPLEMENTATIONS)}")
