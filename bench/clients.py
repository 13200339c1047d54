"""Concurrent clients: one thread each with its own connection, released together by a barrier,
counting the operations they complete in a fixed window."""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: One operation; returns False (having done nothing) when the client ran out of prepared work.
Operation = Callable[[], bool]
#: Builds client ``index``'s operation and the callable that closes its connection.
ClientFactory = Callable[[int], tuple[Operation, Callable[[], None]]]


@dataclass
class PointResult:
    clients: int
    ops: int
    seconds: float
    errors: int
    exhausted: bool
    first_error: str | None
    p50_ms: float
    p99_ms: float

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Tally:
    ops: int = 0
    errors: int = 0
    exhausted: bool = False
    first_error: str | None = None
    finished_at: float = 0.0
    latencies: list[float] = field(default_factory=list)


def run_clients(factory: ClientFactory, clients: int, seconds: float, *, warmup_ops: int) -> PointResult:
    """Run ``clients`` threads for ``seconds`` after a common start; warm-up operations are not counted."""
    tallies = [_Tally() for _ in range(clients)]
    start: list[float] = []
    barrier = threading.Barrier(clients + 1, action=lambda: start.append(time.perf_counter()))
    failures: list[BaseException] = []

    def client(index: int) -> None:
        tally = tallies[index]
        try:
            operation, close = factory(index)
        except BaseException as error:
            failures.append(error)
            barrier.abort()
            return
        try:
            for _ in range(warmup_ops):
                operation()
            barrier.wait()
            deadline = start[0] + seconds
            now = time.perf_counter()
            while now < deadline:
                try:
                    if not operation():
                        tally.exhausted = True
                        break
                except Exception as error:
                    tally.errors += 1
                    tally.first_error = tally.first_error or f"{type(error).__name__}: {error}"[:300]
                else:
                    tally.ops += 1
                    tally.latencies.append(time.perf_counter() - now)
                now = time.perf_counter()
            tally.finished_at = now
        except threading.BrokenBarrierError:
            pass
        except BaseException as error:
            failures.append(error)
            barrier.abort()
        finally:
            close()

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    latencies = sorted(value for tally in tallies for value in tally.latencies)
    elapsed = max(tally.finished_at for tally in tallies) - start[0]
    return PointResult(
        clients=clients, ops=sum(tally.ops for tally in tallies), seconds=elapsed,
        errors=sum(tally.errors for tally in tallies),
        exhausted=any(tally.exhausted for tally in tallies),
        first_error=next((tally.first_error for tally in tallies if tally.first_error), None),
        p50_ms=1000 * statistics.median(latencies) if latencies else 0.0,
        p99_ms=1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0)
