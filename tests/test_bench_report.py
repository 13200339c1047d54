"""The benchmark's arithmetic and its command line: ratios are medians of paired rounds, targets
are judged and missed ones say by how much, the docs' tables are replaced between their markers,
and bad arguments are refused before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import main
from bench.backends import BENCH_URL, TEST_URL, postgres_from_environment
from bench.markdown import END, START, write
from bench.report import memory_flatness, misses, summarize_expiry, summarize_throughput


def _record(implementation: str, ops_per_s: float, *, round_: int, clients: int = 4,
            operation: str = "hold") -> dict[str, Any]:
    return {"backend": "sqlite", "operation": operation, "shape": "hot", "clients": clients,
            "implementation": implementation, "ops_per_s": ops_per_s, "cpu_us_per_call": 100.0,
            "round": round_, "errors": 0}


def test_a_ratio_is_the_median_of_the_rounds_paired_ratios() -> None:
    records = [_record("raw", 1000.0, round_=0), _record("bookcore", 800.0, round_=0),
               _record("raw", 2000.0, round_=1), _record("bookcore", 1000.0, round_=1),
               _record("raw", 1000.0, round_=2), _record("bookcore", 900.0, round_=2),
               *(_record("orm", 400.0, round_=r) for r in range(3))]
    [row] = summarize_throughput(records)
    assert row["ratio_raw"] == 0.8
    assert row["meets_raw"]
    assert row["ratio_orm"] == 2.25
    assert (row["raw_per_s"], row["bookcore_per_s"]) == (1000.0, 900.0)


def test_one_client_has_the_lower_target_and_cancel_none_against_raw() -> None:
    records = [_record("raw", 1000.0, round_=0, clients=1), _record("bookcore", 650.0, round_=0, clients=1),
               _record("raw", 1000.0, round_=0, operation="cancel"),
               _record("bookcore", 300.0, round_=0, operation="cancel"),
               _record("orm", 500.0, round_=0, operation="cancel")]
    hold, cancel = summarize_throughput(records)
    assert (hold["target_raw"], hold["meets_raw"]) == (0.6, True)
    assert (cancel["target_raw"], cancel["meets_raw"], cancel["meets_orm"]) == (None, None, False)
    assert misses([hold, cancel], [], []) == [
        "SQLite cancel hot at 4 processes: bookcore/ORM 0.60, behind the ORM pattern by 40%"]


def test_a_missed_target_says_by_how_much() -> None:
    rows = summarize_throughput([_record("raw", 1000.0, round_=0), _record("bookcore", 600.0, round_=0)])
    assert misses(rows, [], []) == ["SQLite hold hot at 4 processes: bookcore/raw 0.60 against 0.80 "
                                    "(short by 0.20, 25% of the target)"]


def test_expiry_memory_is_flat_when_the_peak_barely_moves() -> None:
    def sweep(implementation: str, lapsed: int, rows_per_s: float, peak: float) -> dict[str, Any]:
        return {"backend": "postgres", "implementation": implementation, "lapsed": lapsed,
                "rows_per_s": rows_per_s, "rss_peak_mb": peak}

    rows = summarize_expiry([sweep("bookcore", 100_000, 40_000.0, 80.0),
                             sweep("raw", 100_000, 60_000.0, 70.0),
                             sweep("bookcore", 1_000_000, 20_000.0, 120.0),
                             sweep("raw", 1_000_000, 60_000.0, 70.0)])
    assert [row["meets_raw"] for row in rows] == [True, False]
    [flat] = memory_flatness(rows)
    assert (flat["factor"], flat["meets"]) == (1.5, False)


def test_results_replace_what_is_between_the_markers_and_keep_the_prose(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Method\n\n{START}\nold table\n{END}\n\n## Why\n")
    write(doc, f"{START}\nnew table\n{END}\n")
    assert doc.read_text() == f"# Method\n\n{START}\nnew table\n{END}\n\n## Why\n"


@pytest.mark.parametrize("arguments", [["--rounds", "0"], ["--only", "pricing"], ["--backend", "mysql"]])
def test_bad_arguments_are_refused_before_anything_runs(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(arguments)
    assert exit_.value.code == 2


def test_postgres_is_skipped_with_the_reason_when_no_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BENCH_URL, raising=False)
    monkeypatch.delenv(TEST_URL, raising=False)
    backend, why = postgres_from_environment()
    assert backend is None
    assert BENCH_URL in why and TEST_URL in why
