"""Holds and finalize per second: bookcore next to its raw-SQL baseline, point by point in one run.

A point is (operation, shape, client count). Shapes: ``hot`` (every client on one item; finalize:
one paying customer, so one wallet row) and ``spread`` (clients rotate over the spread items and
their payers). Within a point the two implementations run back to back, alternating which goes
first, and each run is checked afterwards: every counted operation left its rows behind.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bench.backends import Backend
from bench.baseline import RawBaseline
from bench.clients import ClientFactory, Operation, PointResult, run_clients
from bench.fixtures import (
    CURRENCY,
    GATEWAY_PAYABLE,
    HOT_ITEM,
    load_background,
    load_payable_holds,
    spread_items,
)
from bench.settings import Settings
from bookcore import SqlAlchemyUnitOfWork, SystemClock, finalize_payment, place_hold
from bookcore.adapters.sqlalchemy.turnstile import Turnstile

IMPLEMENTATIONS = ("baseline", "bookcore")
#: The raw baseline behind strict first-come, first-served turns: bookcore's ``Turnstile`` with
#: ``patience=0``, one turn per connection (one on SQLite); the ``fairness`` suite.
FAIR_BASELINE = "fair-baseline"
SHAPES = ("hot", "spread")
#: First guess of finalize rate (per second), to size the pool of payable holds; corrected as runs go.
FIRST_RATE_GUESS = 4000.0

Record = dict[str, Any]
Log = Callable[[str], None]


class BenchmarkBroken(Exception):
    """A run did not do the work it counted; its figures would be meaningless."""


def prepare(backend: Backend, settings: Settings, scale: int) -> None:
    """A fresh schema holding ``scale`` background bookings and the benchmark catalog."""
    backend.reset()
    load_background(backend, scale, spread=settings.spread_items, now=datetime.now(UTC))
    backend.analyze()


class _RawPool:
    """The baseline's connection pool: ``size`` raw connections shared by every client thread.

    With ``turns``, a client first takes one of them in arrival order, as bookcore's units of work
    do (the ``fairness`` suite); without, whoever asks first when a connection comes back gets it.
    """

    def __init__(self, backend: Backend, size: int, turns: Turnstile | None = None) -> None:
        self._idle: queue.LifoQueue[RawBaseline] = queue.LifoQueue()
        self._all = [RawBaseline(backend) for _ in range(size)]
        self._turns = turns
        for raw in self._all:
            self._idle.put(raw)

    @contextmanager
    def connection(self) -> Iterator[RawBaseline]:
        turns = self._turns
        if turns is not None and not turns.enter():
            raise BenchmarkBroken(f"no turn came free in {turns.timeout:g} s")
        try:
            raw = self._idle.get()
            try:
                yield raw
            finally:
                self._idle.put(raw)
        finally:
            if turns is not None:
                turns.leave()

    def close(self) -> None:
        for raw in self._all:
            raw.close()


class Clients:
    """Client factories for one implementation on one backend; closes what they opened.

    Both implementations get the same number of connections: ``connections`` (0: one per client).
    """

    def __init__(self, backend: Backend, implementation: str, clients: int, connections: int) -> None:
        self.backend, self.implementation = backend, implementation
        size = clients if connections <= 0 else min(clients, connections)
        self.engine = backend.engine(pool_size=size) if implementation == "bookcore" else None
        self.raw = None
        if implementation != "bookcore":
            self.raw = _RawPool(backend, size, _fair_turns(backend, size)
                                if implementation == FAIR_BASELINE else None)

    def dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
        if self.raw is not None:
            self.raw.close()

    def _raw(self) -> _RawPool:
        if self.raw is None:
            raise BenchmarkBroken("the baseline's connections were asked of a bookcore point")
        return self.raw

    def holds(self, shape: str, clients: int, tag: str, spread: int) -> ClientFactory:
        items = spread_items(spread)

        def factory(index: int) -> tuple[Operation, Callable[[], None]]:
            customer, step = f"{tag}-c{index}", iter(range(index * 7919, 1 << 62))

            def item() -> str:
                return HOT_ITEM if shape == "hot" else items[next(step) % spread]

            if self.engine is None:
                raw = self._raw()

                def raw_hold() -> bool:
                    with raw.connection() as connection:
                        return bool(connection.hold(item(), customer, 1))

                return raw_hold, _nothing
            uow, clock = SqlAlchemyUnitOfWork(self.engine), SystemClock()
            return (lambda: bool(place_hold(uow, item_id=item(), customer_id=customer, quantity=1,
                                            clock=clock))), _nothing

        return factory

    def finalize(self, booking_ids: list[str]) -> ClientFactory:
        gateway = self.backend.money(GATEWAY_PAYABLE)
        payable = deque(booking_ids)  # shared: popleft() is atomic, so no booking is paid twice

        def factory(index: int) -> tuple[Operation, Callable[[], None]]:
            def take() -> str | None:
                try:
                    return payable.popleft()
                except IndexError:
                    return None

            if self.engine is None:
                raw = self._raw()

                def raw_op() -> bool:
                    booking_id = take()
                    if booking_id is not None:
                        with raw.connection() as connection:
                            connection.finalize(booking_id, f"{booking_id}-key", gateway, CURRENCY)
                    return booking_id is not None

                return raw_op, _nothing
            uow, clock = SqlAlchemyUnitOfWork(self.engine), SystemClock()

            def op() -> bool:
                booking_id = take()
                if booking_id is not None:
                    result = finalize_payment(uow, booking_id=booking_id, idempotency_key=f"{booking_id}-key",
                                              gateway_amount=GATEWAY_PAYABLE, currency=CURRENCY,
                                              clock=clock)
                    if not result.confirmed:
                        raise BenchmarkBroken(f"booking {booking_id} was not confirmed: {result.outcome}")
                return booking_id is not None

            return op, _nothing

        return factory


def _fair_turns(backend: Backend, connections: int) -> Turnstile:
    """As many turns as a bookcore engine on this backend takes (SQLite's one writer at a time, or
    one per connection of a server's pool), each handed to the longest waiter."""
    return Turnstile(timeout=60.0, permits=1 if backend.name == "sqlite" else connections)


def _nothing() -> None:
    """Connections belong to the point's pool (the engine's, or ``_RawPool``), closed with it."""


def _record(suite: str, backend: Backend, scale: int, shape: str, implementation: str,
            result: PointResult, rows_before: int) -> Record:
    return {"suite": suite, "backend": backend.name, "scale": scale, "shape": shape,
            "implementation": implementation, "clients": result.clients, "ops": result.ops,
            "seconds": round(result.seconds, 4), "ops_per_s": round(result.ops_per_s, 1),
            "p50_ms": round(result.p50_ms, 3), "p99_ms": round(result.p99_ms, 3),
            "errors": result.errors, "first_error": result.first_error, "bookings_in_table": rows_before}


def _check(done: int, rows: int, what: str, result: PointResult) -> None:
    if result.errors == 0 and rows != done:
        raise BenchmarkBroken(f"{what}: {done} operations completed but {rows} rows were written")


def run_suite(tables: dict[int, Backend], settings: Settings, log: Log) -> list[Record]:
    """Every (operation, shape, clients) point at every table size, ``tables`` holding one
    prepared database per size: ``settings.rounds`` rounds, each running both implementations
    at each size back to back, so a size's share of another is measured in the same minutes."""
    return run_points(tables, settings, settings.client_counts, IMPLEMENTATIONS, log)


def run_fairness(backend: Backend, settings: Settings, scale: int, log: Log) -> list[Record]:
    """The raw baseline with and without strict first-come, first-served turns, beside bookcore,
    at ``settings.fairness_client_counts``: what strict turns cost by themselves."""
    return run_points({scale: backend}, settings, settings.fairness_client_counts,
                      ("baseline", FAIR_BASELINE, "bookcore"), log)


def run_points(tables: dict[int, Backend], settings: Settings, client_counts: tuple[int, ...],
               implementations: tuple[str, ...], log: Log) -> list[Record]:
    """Holds and finalize for each shape, in rounds. A round sweeps every client count (upwards,
    then downwards in the next round) and at each runs every table size and implementation back
    to back, rotating which goes first: a share of another client count or table size compares
    windows of one round, minutes apart at most, as a ratio compares windows run back to back."""
    records: list[Record] = []
    rates: dict[tuple[Any, ...], float] = {}
    # Which size goes first turns at every client count, and which implementation goes first at
    # a size every other visit to it: turning both at every step made the same implementation go
    # first at the same size every time, right after the switch from the other size's database
    # (whose caches it then warmed, alone).
    scales, sweeps, visits = list(tables), 0, dict.fromkeys(tables, 0)
    for shape in SHAPES:
        for round_ in range(settings.rounds):
            for clients in client_counts if round_ % 2 == 0 else client_counts[::-1]:
                sweeps += 1
                for scale in _rotated(scales, sweeps):
                    turn = visits[scale] // len(scales)
                    backend, order = tables[scale], _rotated(list(implementations), turn)
                    visits[scale] += 1
                    for implementation in order:
                        record = _holds_point(backend, settings, scale, shape, clients, implementation, log)
                        records.append({**record, "round": round_})
                    for implementation in order:
                        series = (scale, shape, implementation)
                        point = (*series, clients)
                        guess = rates.get(point, rates.get(series, FIRST_RATE_GUESS))
                        record = _finalize_point(backend, settings, scale, shape, clients, implementation,
                                                 guess, log)
                        rates[point] = rates[series] = max(float(record["ops_per_s"]), 100.0)
                        records.append({**record, "round": round_})
    return records


def _rotated(values: list[Any], by: int) -> list[Any]:
    turn = by % len(values)
    return values[turn:] + values[:turn]


def _holds_point(backend: Backend, settings: Settings, scale: int, shape: str, clients: int,
                 implementation: str, log: Log) -> Record:
    tag = f"h{time.monotonic_ns() % 10**9}"
    before = int(backend.scalar("SELECT count(*) FROM bookings"))
    pool = Clients(backend, implementation, clients, settings.connections)
    try:
        result = run_clients(pool.holds(shape, clients, tag, settings.spread_items), clients,
                             settings.seconds_per_point, warmup_ops=settings.warmup_ops)
    finally:
        pool.dispose()
    written = int(backend.scalar("SELECT count(*) FROM bookings")) - before
    _check(result.ops + clients * settings.warmup_ops, written, f"holds {implementation}", result)
    record = _record("holds", backend, scale, shape, implementation, result, before)
    log(_line(record))
    return record


def _finalize_point(backend: Backend, settings: Settings, scale: int, shape: str, clients: int,
                    implementation: str, rate_guess: float, log: Log) -> Record:
    size = int(rate_guess * settings.seconds_per_point * 1.6) + clients * (settings.warmup_ops + 20)
    for _attempt in range(3):
        before = int(backend.scalar("SELECT count(*) FROM bookings"))
        booking_ids = load_payable_holds(backend, size, tag=f"f{time.monotonic_ns() % 10**9}",
                                         hot=shape == "hot", spread=settings.spread_items,
                                         now=datetime.now(UTC))
        payments_before = int(backend.scalar("SELECT count(*) FROM payments"))
        pool = Clients(backend, implementation, clients, settings.connections)
        try:
            result = run_clients(pool.finalize(booking_ids), clients, settings.seconds_per_point,
                                 warmup_ops=settings.warmup_ops)
        finally:
            pool.dispose()
        if not result.exhausted:
            break
        log(f"  ({implementation} finalize ran out of {size} payable holds; again with more)")
        size *= 3
    else:
        raise BenchmarkBroken("finalize kept running out of payable holds")
    paid = int(backend.scalar("SELECT count(*) FROM payments")) - payments_before
    _check(result.ops + clients * settings.warmup_ops, paid, f"finalize {implementation}", result)
    record = _record("finalize", backend, scale, shape, implementation, result, before)
    log(_line(record))
    return record


def _line(record: Record) -> str:
    errors = f"  errors={record['errors']} ({record['first_error']})" if record["errors"] else ""
    return (f"  {record['backend']:8} {record['scale']:>9,} {record['suite']:8} {record['shape']:6} "
            f"{record['clients']:>2} clients  {record['implementation']:8} "
            f"{record['ops_per_s']:>9.1f}/s  p50 {record['p50_ms']:.2f} ms  p99 {record['p99_ms']:.2f} ms"
            f"{errors}")
