"""The benchmark harness counts what its client processes did, checks it landed, and fails loudly
when it did not. Tiny points on SQLite, and on PostgreSQL when its URL is set; no timing asserts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bench import expiry
from bench.backends import Backend, SqliteBackend, postgres_from_environment
from bench.clients import BenchmarkBroken, ClientPool, ClientResult, Task
from bench.fixtures import Tables
from bench.implementations import IMPLEMENTATIONS
from bench.settings import QUICK
from bench.throughput import Suite, check_written

TINY = replace(QUICK, client_counts=(2,), seconds_per_round=0.2, spread_items=5, warmup_calls=2,
               background_bookings=10,
               expire_sizes=(300,), expire_batch_size=100)


def _backend(kind: str) -> Backend:
    if kind == "sqlite":
        return SqliteBackend()
    backend, why = postgres_from_environment()
    if backend is None:
        pytest.skip(why)
    return backend


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    chosen = _backend(request.param)
    yield chosen
    chosen.close()


def _written(tables: Tables, operation: str, tag: str) -> int:
    """Rows the point's final attempt wrote; a point that ran out of bookings retries under a new tag."""
    pattern = f"{tag}-%"
    if operation == "hold":
        return tables.count(tables.bookings, "customer_id LIKE ? AND status = 'held'", pattern)
    if operation == "finalize":
        return tables.count(tables.payments, "idempotency_key LIKE ? AND outcome = 'confirmed'", pattern)
    return tables.count(tables.refunds, "booking_id LIKE ?", pattern)


def test_every_counted_call_left_its_rows_for_each_implementation(backend: Backend) -> None:
    suite = Suite(backend, TINY, lambda _line: None)
    pool = ClientPool(suite.target, 2)
    try:
        for implementation in IMPLEMENTATIONS:
            tables = Tables(backend, suite.target, peer=implementation == "orm")
            for operation in ("hold", "finalize", "cancel"):
                record = suite.point(pool, operation, "spread", 2, implementation)
                assert record["errors"] == 0, record["first_error"]
                assert record["calls"] > 0
                assert _written(tables, operation, record["tag"]) == record["calls"] + 2 * TINY.warmup_calls
                assert record["cpu_us_per_call"] > 0
    finally:
        pool.close()


def test_each_sweep_expires_every_lapsed_hold_and_only_those(backend: Backend) -> None:
    records = expiry.run_suite(backend, TINY, lambda _line: None)
    assert sorted(record["implementation"] for record in records) == sorted(IMPLEMENTATIONS)
    assert all(record["lapsed"] == 300 and record["rss_peak_mb"] > 0 for record in records)


def test_work_counted_but_not_written_is_a_harness_failure() -> None:
    backend = SqliteBackend()
    try:
        suite = Suite(backend, TINY, lambda _line: None)
        claimed = ClientResult(timed=3, done=5, errors=0, first_error=None, elapsed=0.1, cpu=0.1,
                               exhausted=False)
        with pytest.raises(BenchmarkBroken, match="5 calls done"):
            check_written(Tables(backend, suite.target, peer=False), "finalize", "nothing", [claimed])
    finally:
        backend.close()


def test_a_client_that_fails_fails_the_point() -> None:
    backend = SqliteBackend()
    try:
        suite = Suite(backend, TINY, lambda _line: None)
        pool = ClientPool(suite.target, 1)
        try:
            with pytest.raises(BenchmarkBroken, match="a client failed"):
                pool.run(Task("hold", "no-such-implementation", "hot", "x", 0, 0.1, 1, 5))
        finally:
            pool.close()
    finally:
        backend.close()
