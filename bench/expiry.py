"""The expiry sweep: bookcore's batched ``expire_holds``, one set-based SQL statement (expire and
release capacity), and the ORM pattern's batched cron command.

For each size, ``lapsed`` holds whose time has passed are loaded beside live ones (which must
stay HELD). Each sweep runs on a freshly loaded copy in a fresh process, so its peak memory
(``ru_maxrss``, the process's RSS high-water mark) is its own. Afterwards the tables are checked:
every lapsed hold expired, every live one still held, every released unit back in ``available``.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

from bench.backends import Backend, Target
from bench.clients import BenchmarkBroken
from bench.fixtures import Tables, load_expiry
from bench.implementations import IMPLEMENTATIONS
from bench.settings import Settings
from bench.throughput import prepare, rotated
from bench.work import CAPACITY
from bookcore import ManualClock, SqlAlchemyUnitOfWork, create_engine_for, expire_holds

Record = dict[str, Any]
Log = Callable[[str], None]


def run_suite(backend: Backend, settings: Settings, log: Log) -> list[Record]:
    records: list[Record] = []
    for turn, lapsed in enumerate(settings.expire_sizes):
        live = max(1, int(lapsed * settings.live_share))
        for implementation in rotated(IMPLEMENTATIONS, turn):
            now = datetime.now(UTC)
            target = prepare(backend)
            tables = Tables(backend, target, peer=implementation == "orm")
            load_expiry(tables, lapsed=lapsed, live=live, spread=settings.spread_items, now=now)
            backend.analyze()
            batch_size = settings.expire_batch_size
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as process:
                outcome = process.submit(sweep, target, implementation, now, batch_size).result()
            _check(tables, lapsed, live, settings.spread_items, now, outcome["expired"])
            record = {
                "backend": backend.name, "implementation": implementation, "lapsed": lapsed, "live": live,
                "batch_size": None if implementation == "raw" else settings.expire_batch_size,
                "seconds": round(outcome["seconds"], 3), "rows_per_s": round(lapsed / outcome["seconds"], 1),
                "batches": outcome["batches"], "rss_before_mb": round(outcome["rss_before_kb"] / 1024, 1),
                "rss_peak_mb": round(outcome["rss_peak_kb"] / 1024, 1),
                "rss_growth_mb": round((outcome["rss_peak_kb"] - outcome["rss_before_kb"]) / 1024, 1)}
            records.append(record)
            log(f"  {backend.name:8} expire   {lapsed:>9,} lapsed  {implementation:8} "
                f"{record['rows_per_s']:>11,.0f} rows/s  {record['seconds']:>7.2f} s  "
                f"memory +{record['rss_growth_mb']:.1f} MB (peak {record['rss_peak_mb']:.1f} MB)")
    return records


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def sweep(target: Target, implementation: str, now: datetime, batch_size: int) -> dict[str, Any]:
    """One sweep, in a fresh process; the RSS mark is taken once connected, before the sweep."""
    if implementation == "bookcore":
        engine = create_engine_for(target.url, pool_size=1, max_overflow=0)
        with engine.connect():
            pass  # the first connection and the dialect's first-connect queries come first
        before, started = _rss_kb(), time.perf_counter()
        result = expire_holds(SqlAlchemyUnitOfWork(engine), clock=ManualClock(now), batch_size=batch_size)
        expired, batches = result.expired_bookings, result.batches
        engine.dispose()
    elif implementation == "raw":
        from bench.raw import raw_client

        raw = raw_client(target)
        before, started = _rss_kb(), time.perf_counter()
        expired, batches = raw.expire(now), 1
        raw.close()
    else:
        from bench.peers.orm import OrmPattern, configure

        configure(target)
        orm = OrmPattern()
        before, started = _rss_kb(), time.perf_counter()
        expired, batches = orm.expire(now, batch_size)
        orm.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "expired": expired, "batches": batches, "rss_before_kb": before,
            "rss_peak_kb": _rss_kb()}


def _check(tables: Tables, lapsed: int, live: int, spread: int, now: datetime, reported: int) -> None:
    backend = tables.backend
    lapsed_left = tables.count(tables.bookings, "status = 'held' AND expires_at <= ?", tables.at(now))
    held = tables.count(tables.bookings, "status = 'held'")
    expired = tables.count(tables.bookings, "status = 'expired'")
    available = int(backend.scalar(f"SELECT sum(available) FROM {tables.items}"))
    expected_available = (spread + 1) * CAPACITY - live  # the hot item too; live holds keep a unit
    if (lapsed_left, held, expired, reported, available) != (0, live, lapsed, lapsed, expected_available):
        raise BenchmarkBroken(f"after expiring {lapsed}: {lapsed_left} lapsed left, {held} held, {expired} "
                              f"expired, {reported} reported, {available} available "
                              f"(expected {expected_available})")
