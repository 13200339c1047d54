"""Where one client's payment spends its time: ``python -m bench.one_client [--payments N] [--top K]``.

One client pays hot-wallet bookings on a fresh SQLite database of 10,000 bookings, as the
throughput suite's finalize points do, bookcore and the raw baseline for two rounds, each round
swapping which goes first;
then one more bookcore batch runs under cProfile. Prints each batch's wall and process CPU per
payment (CPU counts this process only: SQLite runs in it, a server would not) and bookcore's
functions by cumulative time. A diagnosis, not a benchmark: cProfile slows what it watches, so
read its proportions, and the unprofiled batches for the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench.backends import SqliteBackend
from bench.fixtures import load_payable_holds
from bench.settings import QUICK
from bench.throughput import BenchmarkBroken, Clients, prepare

BOOKINGS = 10_000
WARMUP = 5


def _batch(backend: SqliteBackend, implementation: str, payments: int,
           profile: cProfile.Profile | None = None) -> tuple[float, float]:
    """Wall and CPU seconds per payment for ``payments`` payments by one client."""
    booking_ids = load_payable_holds(backend, payments + WARMUP, tag=f"one{time.monotonic_ns()}",
                                     hot=True, spread=QUICK.spread_items, now=datetime.now(UTC))
    paid_before = int(backend.scalar("SELECT count(*) FROM payments"))
    clients = Clients(backend, implementation, clients=1, connections=1)
    try:
        pay, finish = clients.finalize(booking_ids)(0)
        for _ in range(WARMUP):
            pay()
        wall, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        for _ in range(payments):
            pay()
        if profile is not None:
            profile.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finish()
    finally:
        clients.dispose()
    paid = int(backend.scalar("SELECT count(*) FROM payments")) - paid_before
    if paid != payments + WARMUP:
        raise BenchmarkBroken(f"{implementation} recorded {paid} payments of {payments + WARMUP}")
    return wall / payments, cpu / payments


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, not {value}")
        return value
    return parse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.one_client", description=__doc__.split("\n\n")[0])
    parser.add_argument("--payments", type=_at_least(1), default=1500, help="payments a batch (default 1500)")
    parser.add_argument("--top", type=_at_least(0), default=40, help="functions to list (default 40)")
    arguments = parser.parse_args(argv)
    backend = SqliteBackend()
    try:
        prepare(backend, QUICK, BOOKINGS)
        for order in (("baseline", "bookcore"), ("bookcore", "baseline")):
            for implementation in order:
                wall, cpu = _batch(backend, implementation, arguments.payments)
                print(f"{implementation:9} wall {wall * 1e6:6.0f} µs, CPU {cpu * 1e6:6.0f} µs per payment")
        profile = cProfile.Profile()
        wall, cpu = _batch(backend, "bookcore", arguments.payments, profile)
        print(f"bookcore under cProfile: wall {wall * 1e6:6.0f} µs, CPU {cpu * 1e6:6.0f} µs per payment")
        pstats.Stats(profile).sort_stats("cumulative").print_stats("bookcore", arguments.top)
    finally:
        backend.close()


if __name__ == "__main__":
    main()
