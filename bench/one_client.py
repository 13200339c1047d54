"""Where one client's operations spend their time:
``python -m bench.one_client [--operation payments|holds] [--backend sqlite|postgres] [--count N] [--top K]``.

One client runs one operation as the throughput suite does, on a fresh database of 10,000
bookings: ``payments`` pays hot-wallet bookings (the finalize points' hot shape), ``holds`` holds
over 1,000 items (the holds points' spread shape). bookcore and the raw baseline run two rounds,
each round swapping which goes first; then one more bookcore batch runs under cProfile. Prints
each batch's wall and process CPU per operation, and bookcore's functions by cumulative time.
The CPU is this process's only: SQLite runs in it, a server does not, so on PostgreSQL it is the
client's share alone (the URL from ``BOOKCORE_BENCH_POSTGRES_URL`` or
``BOOKCORE_TEST_POSTGRES_URL``). A diagnosis, not a
benchmark: cProfile slows what it watches, so read its proportions, and the unprofiled batches
for the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench.backends import (
    URL_VARIABLES,
    Backend,
    PostgresBackend,
    SqliteBackend,
    postgres_url_from_environment,
)
from bench.clients import Operation
from bench.fixtures import load_payable_holds
from bench.settings import QUICK
from bench.throughput import BenchmarkBroken, Clients, prepare

BOOKINGS = 10_000
WARMUP = 5
OPERATIONS = ("payments", "holds")
#: The table each operation adds one row to, which the run is checked against.
_WRITES = {"payments": "payments", "holds": "bookings"}


def _client(backend: Backend, clients: Clients, operation: str,
            count: int) -> tuple[Operation, Callable[[], None]]:
    if operation == "holds":
        return clients.holds("spread", 1, f"one{time.monotonic_ns()}", QUICK.spread_items)(0)
    booking_ids = load_payable_holds(backend, count + WARMUP, tag=f"one{time.monotonic_ns()}",
                                     hot=True, spread=QUICK.spread_items, now=datetime.now(UTC))
    return clients.finalize(booking_ids)(0)


def _batch(backend: Backend, implementation: str, operation: str, count: int,
           profile: cProfile.Profile | None = None) -> tuple[float, float]:
    """Wall and CPU seconds per operation for ``count`` operations by one client."""
    table = _WRITES[operation]
    clients = Clients(backend, implementation, clients=1, connections=1)
    try:
        run, finish = _client(backend, clients, operation, count)
        written_before = int(backend.scalar(f"SELECT count(*) FROM {table}"))
        for _ in range(WARMUP):
            run()
        wall, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        for _ in range(count):
            run()
        if profile is not None:
            profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finish()
    finally:
        clients.dispose()
    written = int(backend.scalar(f"SELECT count(*) FROM {table}")) - written_before
    if written != count + WARMUP:
        raise BenchmarkBroken(f"{implementation} wrote {written} {table} rows "
                              f"for {count + WARMUP} {operation}")
    return wall / count, cpu / count


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, not {value}")
        return value
    return parse


def _backend(name: str) -> Backend:
    if name == "sqlite":
        return SqliteBackend()
    url = postgres_url_from_environment()
    if url is None:
        raise SystemExit(f"--backend postgres needs a PostgreSQL URL in {' or '.join(URL_VARIABLES)}")
    return PostgresBackend(url)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.one_client", description=__doc__.split("\n\n")[1])
    parser.add_argument("--operation", choices=OPERATIONS, default="payments")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--count", "--payments", type=_at_least(1), default=1500,
                        help="operations a batch (default 1500)")
    parser.add_argument("--top", type=_at_least(0), default=40, help="functions to list (default 40)")
    arguments = parser.parse_args(argv)
    operation, count = arguments.operation, arguments.count
    unit = operation.removesuffix("s")
    backend = _backend(arguments.backend)
    try:
        prepare(backend, QUICK, BOOKINGS)
        for order in (("baseline", "bookcore"), ("bookcore", "baseline")):
            for implementation in order:
                wall, cpu = _batch(backend, implementation, operation, count)
                print(f"{implementation:9} wall {wall * 1e6:6.0f} µs, CPU {cpu * 1e6:6.0f} µs per {unit}")
        profile = cProfile.Profile()
        wall, cpu = _batch(backend, "bookcore", operation, count, profile)
        print(f"bookcore under cProfile: wall {wall * 1e6:6.0f} µs, CPU {cpu * 1e6:6.0f} µs per {unit}")
        pstats.Stats(profile).sort_stats("cumulative").print_stats("bookcore", arguments.top)
    finally:
        backend.close()


if __name__ == "__main__":
    main()
