"""Calls per second of hold, finalize and cancel: bookcore, the raw baseline and the ORM pattern,
point by point in one run.

A point is (operation, shape, client processes). Shapes: ``hot`` (every client on one item;
finalize and cancel on one customer's wallet) and ``spread`` (clients rotate over the items and
their payers). For each client count one pool of processes serves every point, in rounds; in each
round the three implementations run back to back, and the one that goes first turns from round to
round. After each run the tables are checked: every call counted left its rows behind.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable
from typing import Any

from bench.backends import Backend, Target
from bench.clients import BenchmarkBroken, ClientPool, ClientResult, Task
from bench.fixtures import Tables, load_background, load_catalog, load_work
from bench.implementations import IMPLEMENTATIONS
from bench.peers.orm import create_tables
from bench.settings import Settings
from bench.work import OPERATIONS, SHAPES

Record = dict[str, Any]
Log = Callable[[str], None]
#: First guess of calls per second, to size the bookings loaded for finalize and cancel.
FIRST_RATE_GUESS = 3000.0


def prepare(backend: Backend) -> Target:
    """A freshly migrated schema and empty ``peer_`` tables (created by Django, in a process of
    its own so this one never configures Django)."""
    backend.reset()
    target = backend.target()
    context = multiprocessing.get_context("spawn")
    process = context.Process(target=create_tables, args=(target,), name="bench-peer-tables")
    process.start()
    process.join()
    if process.exitcode != 0:
        raise BenchmarkBroken(f"creating the peer_ tables failed (exit code {process.exitcode})")
    return target


def rotated(values: tuple[str, ...], by: int) -> tuple[str, ...]:
    turn = by % len(values)
    return values[turn:] + values[:turn]


class Suite:
    def __init__(self, backend: Backend, settings: Settings, log: Log) -> None:
        self.backend, self.settings, self.log = backend, settings, log
        self.target = prepare(backend)
        for peer in (False, True):
            tables = Tables(backend, self.target, peer=peer)
            load_catalog(tables, spread=settings.spread_items)
            load_background(tables, settings.background_bookings, spread=settings.spread_items)
        backend.analyze()
        self._tags = itertools.count()
        self._rates: dict[tuple[Any, ...], float] = {}

    def run(self) -> list[Record]:
        records: list[Record] = []
        for clients in self.settings.client_counts:
            pool = ClientPool(self.target, clients)
            try:
                for round_ in range(self.settings.rounds):
                    for operation in OPERATIONS:
                        for shape in SHAPES:
                            for implementation in rotated(IMPLEMENTATIONS, round_):
                                record = self.point(pool, operation, shape, clients, implementation)
                                records.append({**record, "round": round_})
            finally:
                pool.close()
        return records

    def point(self, pool: ClientPool, operation: str, shape: str, clients: int,
              implementation: str) -> Record:
        settings = self.settings
        tables = Tables(self.backend, self.target, peer=implementation == "orm")
        series = (operation, shape, implementation)
        rate = self._rates.get((*series, clients), self._rates.get(series, FIRST_RATE_GUESS))
        calls = 0
        if operation != "hold":
            calls = int(rate * settings.seconds_per_round * 2 / clients) + settings.warmup_calls + 20
        for _attempt in range(3):
            tag = f"{operation[0]}{next(self._tags):05d}"
            load_work(tables, operation, shape=shape, tag=tag, clients=clients, calls=calls,
                      spread=settings.spread_items)
            results = pool.run(Task(operation, implementation, shape, tag, calls,
                                    settings.seconds_per_round, settings.warmup_calls, settings.spread_items))
            if all(result.errors and not result.timed for result in results):
                raise BenchmarkBroken(f"{implementation} {operation}: every call failed: "
                                      f"{results[0].first_error}")
            if not any(result.exhausted for result in results):
                break
            errors = sum(result.errors for result in results)
            self.log(f"  ({implementation} {operation} ran out of {calls} bookings a client, {errors} "
                     f"errors; again with more)")
            calls *= 3
        else:
            raise BenchmarkBroken(f"{implementation} {operation} kept running out of bookings")
        check_written(tables, operation, tag, results)
        record = _record(self.backend.name, operation, shape, clients, implementation, results)
        record["tag"] = tag
        self._rates[(*series, clients)] = self._rates[series] = max(record["ops_per_s"], 50.0)
        self.log(_line(record))
        return record


def check_written(tables: Tables, operation: str, tag: str, results: list[ClientResult]) -> None:
    """Every call counted as done left its rows; nothing else did."""
    done, pattern = sum(result.done for result in results), f"{tag}-%"
    if operation == "hold":
        found = {"bookings held": tables.count(tables.bookings, "customer_id LIKE ? AND status = 'held'",
                                               pattern)}
    elif operation == "finalize":
        found = {"payments": tables.count(tables.payments, "idempotency_key LIKE ?", pattern),
                 "bookings confirmed": tables.count(tables.bookings, "id LIKE ? AND status = 'confirmed'",
                                                    pattern)}
    else:
        found = {"refunds": tables.count(tables.refunds, "booking_id LIKE ?", pattern),
                 "bookings cancelled": tables.count(tables.bookings, "id LIKE ? AND status = 'cancelled'",
                                                    pattern)}
    wrong = {what: count for what, count in found.items() if count != done}
    if wrong:
        raise BenchmarkBroken(f"{operation} {tag}: {done} calls done, but {wrong} rows written")


def _record(backend: str, operation: str, shape: str, clients: int, implementation: str,
            results: list[ClientResult]) -> Record:
    timed = sum(result.timed for result in results)
    seconds = max(result.elapsed for result in results)
    cpu = sum(result.cpu for result in results)
    return {"backend": backend, "operation": operation, "shape": shape, "clients": clients,
            "implementation": implementation, "calls": timed, "seconds": round(seconds, 3),
            "ops_per_s": round(timed / seconds, 1) if seconds > 0 else 0.0,
            "cpu_us_per_call": round(1e6 * cpu / timed, 1) if timed else None,
            "errors": sum(result.errors for result in results),
            "first_error": next((result.first_error for result in results if result.first_error), None)}


def _line(record: Record) -> str:
    errors = f"  errors={record['errors']} ({record['first_error']})" if record["errors"] else ""
    cpu = record["cpu_us_per_call"]
    return (f"  {record['backend']:8} {record['operation']:8} {record['shape']:6} {record['clients']:>2} "
            f"clients  {record['implementation']:8} {record['ops_per_s']:>8.1f}/s  "
            f"CPU {cpu if cpu is not None else float('nan'):>7.1f} µs/call{errors}")
