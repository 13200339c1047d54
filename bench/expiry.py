"""Expiring lapsed holds: bookcore's batched ``expire_holds`` next to one set-based SQL statement.

For each size, ``lapsed`` holds whose time has passed are loaded with as many live ones beside
them (which must stay HELD). Each implementation runs on a freshly loaded copy, in its own Python
process, so its peak memory (``ru_maxrss``) is its own and sizes never contaminate each other.
Afterwards the tables are checked: every lapsed hold expired, every live one still held, every
released unit back in ``available``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.backends import Backend, PostgresBackend, SqliteBackend
from bench.fixtures import CAPACITY, load_expiry, timestamp
from bench.settings import Settings

Record = dict[str, Any]
Log = Callable[[str], None]
ROOT = Path(__file__).resolve().parent.parent


class ExpiryBroken(Exception):
    """A sweep left the tables in a state a correct sweep cannot."""


def run_suite(backend: Backend, settings: Settings, log: Log) -> list[Record]:
    records: list[Record] = []
    for size in settings.expire_sizes:
        for implementation in ("baseline", "bookcore"):
            now = datetime.now(UTC)
            backend.reset()
            load_expiry(backend, lapsed=size, live=size, spread=settings.spread_items, now=now)
            backend.analyze()
            outcome = _in_subprocess(backend, implementation, now, settings.expire_batch_size)
            _check(backend, size, settings.spread_items, now, outcome)
            record = {
                "suite": "expire", "backend": backend.name, "implementation": implementation,
                "lapsed": size, "live": size,
                "batch_size": settings.expire_batch_size if implementation == "bookcore" else None,
                "seconds": round(outcome["seconds"], 3),
                "rows_per_s": round(size / outcome["seconds"], 1),
                "batches": outcome["batches"],
                "rss_before_mb": round(outcome["rss_before_kb"] / 1024, 1),
                "rss_peak_mb": round(outcome["rss_peak_kb"] / 1024, 1),
                "rss_growth_mb": round((outcome["rss_peak_kb"] - outcome["rss_before_kb"]) / 1024, 1),
            }
            records.append(record)
            log(f"  {backend.name:8} expire   {size:>9,} lapsed  {implementation:8} "
                f"{record['rows_per_s']:>11,.0f} rows/s  {record['seconds']:>7.2f} s  "
                f"memory +{record['rss_growth_mb']:.1f} MB (peak {record['rss_peak_mb']:.1f} MB)")
    return records


def _in_subprocess(backend: Backend, implementation: str, now: datetime, batch_size: int) -> dict[str, Any]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    target = str(backend.path) if isinstance(backend, SqliteBackend) else backend.url
    completed = subprocess.run(
        [sys.executable, "-m", "bench.expire_worker", backend.name, target, implementation,
         now.isoformat(), str(batch_size)],
        capture_output=True, text=True, env=environment, cwd=ROOT, check=False)
    if completed.returncode != 0:
        raise ExpiryBroken(f"expire worker failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _check(backend: Backend, size: int, spread: int, now: datetime, outcome: dict[str, Any]) -> None:
    lapsed_left = backend.scalar("SELECT count(*) FROM bookings WHERE status = 'held' AND expires_at <= ?",
                                 timestamp(backend, now))
    held = backend.scalar("SELECT count(*) FROM bookings WHERE status = 'held'")
    expired = backend.scalar("SELECT count(*) FROM bookings WHERE status = 'expired'")
    available = backend.scalar("SELECT sum(available) FROM inventory_items")
    expected_available = (spread + 1) * CAPACITY - size  # the hot item too; live holds keep a unit
    if (lapsed_left, held, expired, outcome["expired"], available) != (0, size, size, size,
                                                                        expected_available):
        raise ExpiryBroken(f"after expiring {size}: {lapsed_left} lapsed left, {held} held, {expired} "
                           f"expired, {outcome['expired']} reported, {available} available "
                           f"(expected {expected_available})")


def backend_for_worker(name: str, target: str) -> Backend:
    return SqliteBackend(Path(target)) if name == "sqlite" else PostgresBackend(target)
