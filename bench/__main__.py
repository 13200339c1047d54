"""Run the benchmarks: ``python -m bench [--quick] [--backend postgres|sqlite|all] [--json PATH]
[--plot PATH] [--markdown PATH] [--rounds N] [--only throughput,expire]``.

bookcore, the raw-SQL baseline and the ORM pattern run interleaved at every point, so each ratio
compares figures from one machine, one minute. Missing a target is reported, never an error:
benchmarks are not tests. A harness failure (a run that did not do the work it counted, or a
client that failed) exits non-zero, so CI's ``python -m bench --quick`` keeps the harness honest.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import expiry, markdown, throughput
from bench.backends import Backend, SqliteBackend, postgres_from_environment
from bench.clients import BenchmarkBroken
from bench.machine import describe, describe_backend
from bench.plot import plot
from bench.report import memory_flatness, misses, summarize_expiry, summarize_throughput, target_counts
from bench.settings import FULL, QUICK

SUITES = ("throughput", "expire")


def _log(message: str) -> None:
    print(message, flush=True)


def _whole_number(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("a whole number from 1")
    return value


def _suites(text: str) -> set[str]:
    chosen = {name.strip() for name in text.split(",") if name.strip()}
    if not chosen or chosen - set(SUITES):
        raise argparse.ArgumentTypeError(f"comma-separated, from {', '.join(SUITES)}")
    return chosen


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts, 1 and 4 clients (CI)")
    parser.add_argument("--backend", choices=("postgres", "sqlite", "all"), default="all")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--plot", type=Path, help="write the PNG plot here")
    parser.add_argument("--markdown", type=Path,
                        help="write the results here (between the markers, if the file has them)")
    parser.add_argument("--rounds", type=_whole_number, metavar="N",
                        help=f"rounds of each point (default {FULL.rounds}, --quick {QUICK.rounds})")
    parser.add_argument("--only", type=_suites, default=set(SUITES),
                        help=f"comma-separated suites to run, from {', '.join(SUITES)}")
    return parser.parse_args(argv)


def _backends(choice: str, notes: list[str]) -> list[Backend]:
    chosen: list[Backend] = []
    if choice in ("postgres", "all"):
        postgres, why = postgres_from_environment()
        _log(why)
        if postgres is None:
            notes.append(why)
        else:
            chosen.append(postgres)
    if choice in ("sqlite", "all"):
        chosen.append(SqliteBackend())
    return chosen


def run(arguments: argparse.Namespace) -> dict[str, Any]:
    settings = QUICK if arguments.quick else FULL
    if arguments.rounds is not None:
        settings = replace(settings, rounds=arguments.rounds)
    started = time.perf_counter()
    notes: list[str] = []
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": describe(),
        "settings": settings.as_dict(), "backends": {}, "notes": notes, "throughput": [], "expire": []}
    _log(f"bookcore benchmarks ({'quick' if settings.quick else 'full'}) on {results['machine']['cpus']} "
         f"CPUs, load average {results['machine']['load_average'][0]:.2f}")
    for backend in _backends(arguments.backend, notes):
        try:
            backend.reset()
            results["backends"][backend.name] = describe_backend(backend)
            _log(f"{backend.name}: {results['backends'][backend.name]}")
            if "throughput" in arguments.only:
                results["throughput"] += throughput.Suite(backend, settings, _log).run()
            if "expire" in arguments.only:
                results["expire"] += expiry.run_suite(backend, settings, _log)
        finally:
            backend.close()
    rows, sweeps = summarize_throughput(results["throughput"]), summarize_expiry(results["expire"])
    flat = memory_flatness(sweeps)
    results["summary"] = {"throughput": rows, "expiry": sweeps, "flat": flat,
                          "targets": target_counts(rows, sweeps, flat)}
    results["misses"] = misses(rows, sweeps, flat)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["load_average_after"] = list(os.getloadavg())
    return results


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    try:
        results = run(arguments)
    except BenchmarkBroken as error:
        _log(f"harness failure: {error}")
        return 1
    plot_name = None
    if arguments.plot:
        machine = results["machine"]
        plot(results["summary"]["throughput"], arguments.plot,
             title=f"bookcore, raw SQL and the ORM pattern: {machine['cpus']} CPUs "
                   f"({machine['cpu_model']}), Python {machine['python']}")
        beside = arguments.markdown.resolve().parent if arguments.markdown else Path.cwd()
        plot_name = os.path.relpath(arguments.plot.resolve(), beside)
    section = markdown.results_section(results, plot_name)
    _log("\n" + section)
    _log(f"done in {results['seconds']} s")
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    if arguments.markdown:
        markdown.write(arguments.markdown, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
