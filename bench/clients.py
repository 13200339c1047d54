"""Client processes: each started with ``spawn`` and building its own implementations (engine,
connections, Django) after start, as web workers do. A pool of them serves every point of one
client count; for each task they warm up, meet at a barrier, run for a fixed time and report
what they did and the process CPU time it took."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from threading import BrokenBarrierError

from bench.backends import Target
from bench.implementations import Implementation, build
from bench.work import booking_id, item_for, payer_for

#: Seconds to wait for every client at the barrier (spawning and warming 16 processes on 2 CPUs).
BARRIER_TIMEOUT_S = 300.0


class BenchmarkBroken(Exception):
    """A run did not do the work it counted, or a client failed: its figures would mean nothing."""


@dataclass(frozen=True)
class Task:
    operation: str
    implementation: str
    shape: str
    #: Names this task's rows (customers for holds, bookings for finalize and cancel).
    tag: str
    #: Bookings loaded for each client (finalize, cancel); 0: no limit (holds).
    calls: int
    seconds: float
    warmup: int
    spread: int


@dataclass(frozen=True)
class ClientResult:
    #: Calls completed in the timed window, and in all (warm-up included).
    timed: int
    done: int
    errors: int
    first_error: str | None
    elapsed: float
    #: Process CPU seconds (user + system) spent in the timed window.
    cpu: float
    #: The client ran out of loaded bookings before its time was up.
    exhausted: bool


def _call(client: Implementation, task: Task, index: int) -> Callable[[int], None]:
    if task.operation == "hold":
        customer = f"{task.tag}-c{index:02d}"
        return lambda call: client.hold(item_for(task.shape, index, call, task.spread), customer)
    if task.operation == "finalize":
        return lambda call: client.finalize(booking_id(task.tag, index, call))
    if task.operation == "cancel":
        return lambda call: client.cancel(booking_id(task.tag, index, call),
                                          payer_for(task.shape, index, call, task.spread))
    raise ValueError(f"no operation {task.operation!r}")


def _run(client: Implementation, task: Task, index: int, barrier: Barrier) -> ClientResult:
    call = _call(client, task, index)
    for number in range(task.warmup):
        call(number)
    barrier.wait(BARRIER_TIMEOUT_S)
    started, cpu_started = time.perf_counter(), time.process_time()
    deadline, number = started + task.seconds, task.warmup
    timed = errors = 0
    first_error: str | None = None
    exhausted = False
    while time.perf_counter() < deadline:
        if task.calls and number >= task.calls:
            exhausted = True
            break
        try:
            call(number)
        except Exception as error:
            errors += 1
            first_error = first_error or f"{type(error).__name__}: {error}"[:300]
        else:
            timed += 1
        number += 1
    return ClientResult(timed=timed, done=task.warmup + timed, errors=errors, first_error=first_error,
                        elapsed=time.perf_counter() - started, cpu=time.process_time() - cpu_started,
                        exhausted=exhausted)


def _serve(target: Target, index: int, connection: Connection, barrier: Barrier) -> None:
    clients: dict[str, Implementation] = {}
    try:
        while (task := connection.recv()) is not None:
            try:
                client = clients.get(task.implementation)
                if client is None:
                    client = clients[task.implementation] = build(task.implementation, target)
                connection.send(_run(client, task, index, barrier))
            except BrokenBarrierError:
                connection.send("another client failed")
            except Exception:
                barrier.abort()
                connection.send(traceback.format_exc())
    finally:
        for client in clients.values():
            client.close()


class ClientPool:
    """``size`` client processes for ``target``, serving tasks until closed."""

    def __init__(self, target: Target, size: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._barrier = context.Barrier(size + 1)
        self._connections: list[Connection] = []
        self._processes = []
        for index in range(size):
            parent, child = context.Pipe()
            process = context.Process(target=_serve, args=(target, index, child, self._barrier),
                                      name=f"bench-client-{index}", daemon=True)
            process.start()
            self._connections.append(parent)
            self._processes.append(process)

    def run(self, task: Task) -> list[ClientResult]:
        for connection in self._connections:
            connection.send(task)
        with contextlib.suppress(BrokenBarrierError):  # a client failed; its report says why
            self._barrier.wait(BARRIER_TIMEOUT_S)
        reports = [connection.recv() for connection in self._connections]
        failures = [report for report in reports if not isinstance(report, ClientResult)]
        if failures:
            self._barrier.reset()
            raise BenchmarkBroken(f"{task.implementation} {task.operation}: a client failed:\n{failures[0]}")
        return [report for report in reports if isinstance(report, ClientResult)]

    def close(self) -> None:
        for connection in self._connections:
            connection.send(None)
        for process in self._processes:
            process.join(30)
            if process.is_alive():
                process.terminate()
