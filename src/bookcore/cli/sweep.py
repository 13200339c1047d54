"""One ``expire`` run, and the ``--every`` loop around it: progress, partial failure, a clean stop."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from bookcore.cli.output import (
    EXIT_OK,
    EXIT_PARTIAL,
    describe,
    error_line,
    exit_code_for,
    plural,
    print_json,
    translated,
)
from bookcore.clock import SystemClock
from bookcore.errors import BookcoreError
from bookcore.holds import expire_holds

if TYPE_CHECKING:
    from types import FrameType

    from rich.status import Status

    from bookcore.cli.store import Database


class Interrupted(BookcoreError):
    """A single run stopped by SIGINT/SIGTERM; the CLI's own, so it reports like any other error."""

    code = "interrupted"


@dataclass
class _Tally:
    """What committed so far; shown on a terminal as it grows."""

    expired: int = 0
    released: int = 0
    batches: int = 0
    status: Status | None = None

    def batch(self, expired: int, released: int) -> None:
        self.expired += expired
        self.released += released
        self.batches += 1
        if self.status is not None:
            self.status.update(f"expiring lapsed holds: {self.expired} expired, "
                               f"{self.released} units released, {self.batches} batches")

    @contextmanager
    def shown(self) -> Iterator[None]:
        if not sys.stderr.isatty():  # cron and pipes: no spinner, and no need to load rich
            yield
            return
        from rich.console import Console

        console = Console(stderr=True)
        with console.status("expiring lapsed holds...") as status:
            self.status = status
            yield
        self.status = None


def _report(store: Database, *, started_at: str, dry_run: bool, tally: _Tally,
            error: BookcoreError | None) -> dict[str, Any]:
    return {"database": store.shown_url, "started_at": started_at, "dry_run": dry_run,
            "completed": error is None, "expired_bookings": tally.expired,
            "released_units": tally.released, "batches": tally.batches,
            "error": None if error is None else {"code": error.code,
                                                 "message": describe(error)}}


def _print(report: dict[str, Any], *, as_json: bool, loop: bool) -> None:
    if as_json:
        print_json(report, compact=loop)
        return
    bookings = plural(report["expired_bookings"], "booking")
    units = plural(report["released_units"], "unit")
    batches = plural(report["batches"], "batch", "batches")
    if report["dry_run"]:
        typer.echo(f"dry run: would expire {bookings}, {units}; nothing changed")
    elif report["completed"]:
        typer.echo(f"expired {bookings}, released {units} in {batches}")
    else:
        typer.echo(f"expire stopped part way: {batches} committed ({bookings}, {units} "
                   "expired and released); the next run finishes the job")


def run_expire(store: Database, *, batch_size: int, dry_run: bool, as_json: bool,
               loop: bool = False) -> int:
    """Run one sweep (or count, for ``dry_run``), print what happened and return the exit code."""
    clock = SystemClock()
    started_at = clock.now().isoformat()
    tally = _Tally()
    error: BookcoreError | None = None
    try:
        if dry_run:
            uow = store.uow()
            with uow:
                tally.expired, tally.released = uow.bookings.count_lapsed(clock.now())
        else:
            with tally.shown():
                expire_holds(store.uow(), clock=clock, batch_size=batch_size, on_batch=tally.batch)
    except KeyboardInterrupt:
        error = Interrupted("interrupted before the sweep finished")
    except Exception as exc:
        error = translated(exc)
        if error is None:
            raise
    report = _report(store, started_at=started_at, dry_run=dry_run, tally=tally, error=error)
    if error is None:
        _print(report, as_json=as_json, loop=loop)
        return EXIT_OK
    typer.echo(error_line(error), err=True)
    partial = tally.batches > 0 or isinstance(error, Interrupted)
    if partial or as_json:
        _print(report, as_json=as_json, loop=loop)
    return EXIT_PARTIAL if partial else exit_code_for(error)


class StopSignal:
    """Set by SIGINT or SIGTERM; the ``--every`` loop waits on it instead of sleeping."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True as soon as a stop was requested."""
        return self._event.wait(seconds)

    def request(self, signum: int = 0, frame: FrameType | None = None) -> None:
        self._event.set()

    def installed(self) -> AbstractContextManager[None]:
        """Route SIGINT/SIGTERM here for the length of the loop."""
        return _signals_to(self.request)


def interruptible() -> AbstractContextManager[None]:
    """SIGTERM interrupts a single run as Ctrl-C does, so ``timeout`` or a scheduler stopping it
    gets the part-way report (exit 6) instead of a silent kill."""
    return _signals_to(signal.default_int_handler)


@contextmanager
def _signals_to(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only it may set handlers
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_every(run_once: Callable[[], int], *, interval: float, wait: Callable[[float], bool],
              max_runs: int | None = None) -> int:
    """Run, wait ``interval``, repeat until ``wait`` reports a stop; a failed run does not end it.

    Returns the number of runs. ``max_runs`` bounds the loop (tests).
    """
    runs = 0
    while True:
        run_once()
        runs += 1
        if (max_runs is not None and runs >= max_runs) or wait(interval):
            return runs
