"""Run every benchmark: ``python -m bench [--quick] [--backend postgres|sqlite|all] [--json out.json]
[--plot docs/benchmarks.png] [--markdown results.md] [--rounds N]
[--only throughput,fairness,expire,pricing]``.

bookcore and its raw-SQL baseline run back to back at every point, so each ratio compares figures
from one machine, one minute. Missing a target is reported, never an error: benchmarks are not
tests. A harness failure (a run that did not do the work it counted) exits non-zero, so CI's
``python -m bench --quick`` keeps the harness honest.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import expiry, throughput
from bench.backends import Backend, PostgresBackend, SqliteBackend, postgres_url_from_environment
from bench.machine import describe, describe_backend
from bench.plot import plot
from bench.report import markdown, misses, summarize
from bench.settings import FULL, QUICK, Settings

SUITES = ("throughput", "fairness", "expire", "pricing")


def _log(message: str) -> None:
    print(message, flush=True)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts and 1 and 4 clients (CI)")
    parser.add_argument("--backend", choices=("postgres", "sqlite", "all"), default="all")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--plot", type=Path, help="write the PNG plot here")
    parser.add_argument("--markdown", type=Path, help="write the result tables here (Markdown)")
    parser.add_argument("--connections", type=int, metavar="N",
                        help="connections the clients of a point share, for bookcore and the baseline "
                             "alike (default 2 x CPUs + 1; 0 gives every client its own)")
    parser.add_argument("--rounds", type=int, metavar="N",
                        help=f"rounds of each throughput point (default {FULL.rounds}, --quick "
                             f"{QUICK.rounds}); a ratio is the median of the rounds' ratios")
    parser.add_argument("--only", default=",".join(SUITES),
                        help=f"comma-separated suites to run, from {', '.join(SUITES)}")
    return parser.parse_args(argv)


def _backends(choice: str, notes: list[str]) -> list[Backend]:
    chosen: list[Backend] = []
    if choice in ("postgres", "all"):
        url = postgres_url_from_environment()
        if url is None:
            note = ("PostgreSQL skipped: set BOOKCORE_BENCH_POSTGRES_URL or BOOKCORE_TEST_POSTGRES_URL "
                    "(the benchmark uses its own database, bookcore_bench, on that server)")
            notes.append(note)
            _log(note)
        else:
            chosen.append(PostgresBackend(url))
    if choice in ("sqlite", "all"):
        chosen.append(SqliteBackend())
    return chosen


def _pricing(quick: bool, notes: list[str]) -> Any:
    """Pricing quotes vs bare Decimal, from bench.pricing (its own module and figures)."""
    try:
        module = importlib.import_module("bench.pricing")
    except ModuleNotFoundError as error:
        if error.name != "bench.pricing":
            raise
        notes.append("pricing skipped: bench/pricing.py is not there")
        _log(notes[-1])
        return None
    run = getattr(module, "run", None)
    if callable(run):
        return run(quick=quick)
    command = [sys.executable, "-m", "bench.pricing", *(["--quick"] if quick else [])]
    completed = subprocess.run(command, capture_output=True, text=True, check=True,
                               cwd=Path(__file__).resolve().parent.parent)
    _log(completed.stdout.rstrip())
    return {"output": completed.stdout}


def _throughput(backend: Backend, settings: Settings) -> list[dict[str, Any]]:
    """The throughput suite, every table size in a database of its own (the first in
    ``backend``'s), all loaded before any is measured, so the sizes alternate round by round."""
    tables = {scale: backend if index == 0 else backend.sibling(str(scale))
              for index, scale in enumerate(settings.scales)}
    try:
        for scale, database in tables.items():
            _log(f"{backend.name}: loading {scale:,} bookings")
            throughput.prepare(database, settings, scale)
        return throughput.run_suite(tables, settings, _log)
    finally:
        for database in tables.values():
            if database is not backend:
                database.close()


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    suites = {name.strip() for name in arguments.only.split(",") if name.strip()}
    if unknown := suites - set(SUITES):
        raise SystemExit(f"unknown suites: {', '.join(sorted(unknown))}")
    if arguments.rounds is not None and arguments.rounds < 1:
        raise SystemExit("--rounds takes a whole number from 1")
    settings = (QUICK if arguments.quick else FULL).with_connections(arguments.connections) \
        .with_rounds(arguments.rounds)
    started = time.perf_counter()
    notes: list[str] = []
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": describe(),
        "settings": settings.as_dict(), "backends": {}, "notes": notes, "throughput": [], "fairness": [],
        "expire": [], "pricing": None}
    _log(f"bookcore benchmarks ({'quick' if settings.quick else 'full'}) on {results['machine']['cpus']} "
         f"CPUs, load average {results['machine']['load_average'][0]:.2f}")
    for backend in _backends(arguments.backend, notes):
        try:
            backend.reset()
            results["backends"][backend.name] = describe_backend(backend)
            _log(f"{backend.name} {results['backends'][backend.name]}")
            if "throughput" in suites:
                results["throughput"] += _throughput(backend, settings)
            if "fairness" in suites:
                _log(f"{backend.name}: fairness, loading {settings.scales[0]:,} bookings")
                throughput.prepare(backend, settings, settings.scales[0])
                results["fairness"] += throughput.run_fairness(backend, settings, settings.scales[0], _log)
            if "expire" in suites:
                results["expire"] += expiry.run_suite(backend, settings, _log)
        finally:
            backend.close()
    if "pricing" in suites:
        results["pricing"] = _pricing(settings.quick, notes)
    summary = summarize(results["throughput"], results["expire"], results["fairness"])
    results["summary"], results["misses"] = summary, misses(summary)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["load_average_after"] = list(os.getloadavg())
    tables = markdown(summary)
    _log("\n" + tables)
    _log("Targets missed:\n  " + "\n  ".join(results["misses"]) if results["misses"] else "Every target met.")
    _log(f"done in {results['seconds']} s")
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    if arguments.markdown:
        arguments.markdown.write_text(tables)
    if arguments.plot:
        machine = results["machine"]
        plot(results["throughput"], results["expire"], arguments.plot,
             title=f"bookcore vs raw SQL: {machine['cpus']} CPUs ({machine['cpu_model']}), Python "
                   f"{machine['python']}, {'quick' if settings.quick else 'full'} settings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
