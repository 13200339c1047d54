"""One expiry run in a process of its own (started by bench.expiry): prints one JSON line.

``python -m bench.expire_worker BACKEND TARGET IMPLEMENTATION NOW BATCH_SIZE``
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime

from bench.baseline import RawBaseline
from bench.expiry import backend_for_worker
from bookcore import ManualClock, SqlAlchemyUnitOfWork, expire_holds


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def main(argv: list[str]) -> None:
    name, target, implementation, now_text, batch_text = argv
    now = datetime.fromisoformat(now_text)
    backend = backend_for_worker(name, target)
    if implementation == "baseline":
        raw = RawBaseline(backend)
        before = _rss_kb()
        started = time.perf_counter()
        expired, batches = raw.expire(now), 1
        seconds = time.perf_counter() - started
        raw.close()
    else:
        engine = backend.engine()
        with engine.connect():
            pass  # the pool's first connection, and the dialect's first-connect queries, come first
        before = _rss_kb()
        started = time.perf_counter()
        result = expire_holds(SqlAlchemyUnitOfWork(engine), clock=ManualClock(now),
                              batch_size=int(batch_text))
        seconds = time.perf_counter() - started
        expired, batches = result.expired_bookings, result.batches
        engine.dispose()
    print(json.dumps({"seconds": seconds, "expired": expired, "batches": batches,
                      "rss_before_kb": before, "rss_peak_kb": _rss_kb()}))


if __name__ == "__main__":
    main(sys.argv[1:])
