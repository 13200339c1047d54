"""The figures, summarized: per point the median calls per second of each implementation, the
ratios bookcore/raw and bookcore/ORM (each the median of the rounds' paired ratios), client CPU
per call, and the targets met or missed (reported, never asserted: benchmarks are not tests)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from bench.implementations import IMPLEMENTATIONS
from bench.work import OPERATIONS, SHAPES

Record = dict[str, Any]
#: bookcore's share of raw SQL's calls per second it should reach, for holds and finalize.
RAW_TARGET_ONE_CLIENT = 0.60
RAW_TARGET = 0.80
RAW_TARGET_OPERATIONS = ("hold", "finalize")
#: bookcore's expiry sweep against one set-based statement, in rows per second.
EXPIRE_TARGET = 0.50
#: "Flat memory": the sweep's peak RSS at the largest size within this factor of the smallest's.
FLAT_MEMORY_FACTOR = 1.25
BACKEND_TITLES = {"postgres": "PostgreSQL", "sqlite": "SQLite"}


def raw_target(operation: str, clients: int) -> float | None:
    if operation not in RAW_TARGET_OPERATIONS:
        return None
    return RAW_TARGET_ONE_CLIENT if clients == 1 else RAW_TARGET


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _paired_ratio(rounds: dict[int, dict[str, Record]], other: str) -> float | None:
    ratios = [by["bookcore"]["ops_per_s"] / by[other]["ops_per_s"] for by in rounds.values()
              if "bookcore" in by and other in by and by[other]["ops_per_s"] > 0]
    return _median(ratios)


def summarize_throughput(records: list[Record]) -> list[Record]:
    points: dict[tuple[Any, ...], dict[int, dict[str, Record]]] = defaultdict(lambda: defaultdict(dict))
    for record in records:
        key = (record["backend"], record["operation"], record["shape"], record["clients"])
        points[key][record.get("round", 0)][record["implementation"]] = record
    order = {name: index for index, name in enumerate(OPERATIONS + SHAPES)}
    rows = []
    for key in sorted(points, key=lambda k: (k[0], order[k[1]], order[k[2]], k[3])):
        backend, operation, shape, clients = key
        rounds = points[key]
        row: Record = {"backend": backend, "operation": operation, "shape": shape, "clients": clients}
        for name in IMPLEMENTATIONS:
            runs = [by[name] for by in rounds.values() if name in by]
            row[f"{name}_per_s"] = _median([run["ops_per_s"] for run in runs])
            row[f"{name}_cpu_us"] = _median([run["cpu_us_per_call"] for run in runs
                                             if run["cpu_us_per_call"] is not None])
        row["errors"] = sum(by[name]["errors"] for by in rounds.values() for name in by)
        row["ratio_raw"], row["ratio_orm"] = _paired_ratio(rounds, "raw"), _paired_ratio(rounds, "orm")
        row["target_raw"] = raw_target(operation, clients)
        row["meets_raw"] = None if row["target_raw"] is None or row["ratio_raw"] is None \
            else row["ratio_raw"] >= row["target_raw"]
        row["meets_orm"] = None if row["ratio_orm"] is None else row["ratio_orm"] > 1.0
        rows.append(row)
    return rows


def summarize_expiry(records: list[Record]) -> list[Record]:
    sizes: dict[tuple[str, int], dict[str, Record]] = defaultdict(dict)
    for record in records:
        sizes[(record["backend"], record["lapsed"])][record["implementation"]] = record
    rows = []
    for (backend, lapsed), by in sorted(sizes.items()):
        row: Record = {"backend": backend, "lapsed": lapsed}
        for name in IMPLEMENTATIONS:
            row[f"{name}_rows_per_s"] = by[name]["rows_per_s"] if name in by else None
            row[f"{name}_peak_mb"] = by[name]["rss_peak_mb"] if name in by else None
        if "bookcore" in by and "raw" in by:
            row["ratio_raw"] = round(by["bookcore"]["rows_per_s"] / by["raw"]["rows_per_s"], 3)
            row["meets_raw"] = row["ratio_raw"] >= EXPIRE_TARGET
        rows.append(row)
    return rows


def memory_flatness(expiry: list[Record]) -> list[Record]:
    """Per backend: bookcore's peak RSS at the largest size against the smallest's."""
    flat = []
    for backend in sorted({row["backend"] for row in expiry}):
        rows = sorted((row for row in expiry if row["backend"] == backend and row["bookcore_peak_mb"]),
                      key=lambda row: row["lapsed"])
        if len(rows) < 2:
            continue
        smallest, largest = rows[0], rows[-1]
        factor = round(largest["bookcore_peak_mb"] / smallest["bookcore_peak_mb"], 3)
        flat.append({"backend": backend, "smallest": smallest["lapsed"], "largest": largest["lapsed"],
                     "peak_mb": [smallest["bookcore_peak_mb"], largest["bookcore_peak_mb"]],
                     "factor": factor, "meets": factor <= FLAT_MEMORY_FACTOR})
    return flat


def misses(throughput: list[Record], expiry: list[Record], flat: list[Record]) -> list[str]:
    """Every target missed, and by how much."""
    found = []
    for row in throughput:
        point = (f"{BACKEND_TITLES[row['backend']]} {row['operation']} {row['shape']} at "
                 f"{row['clients']} process{'es' if row['clients'] > 1 else ''}")
        if row["meets_raw"] is False:
            short = row["target_raw"] - row["ratio_raw"]
            found.append(f"{point}: bookcore/raw {row['ratio_raw']:.2f} against {row['target_raw']:.2f} "
                         f"(short by {short:.2f}, {short / row['target_raw']:.0%} of the target)")
        if row["meets_orm"] is False:
            found.append(f"{point}: bookcore/ORM {row['ratio_orm']:.2f}, behind the ORM pattern by "
                         f"{1 - row['ratio_orm']:.0%}")
    for row in expiry:
        if row.get("meets_raw") is False:
            short = EXPIRE_TARGET - row["ratio_raw"]
            found.append(f"{BACKEND_TITLES[row['backend']]} expiry of {row['lapsed']:,}: bookcore/raw "
                         f"{row['ratio_raw']:.2f} against {EXPIRE_TARGET:.2f} (short by {short:.2f})")
    for row in flat:
        if not row["meets"]:
            found.append(f"{BACKEND_TITLES[row['backend']]} expiry memory: peak RSS x{row['factor']:.2f} "
                         f"from {row['smallest']:,} to {row['largest']:,} lapsed holds "
                         f"(flat is at most x{FLAT_MEMORY_FACTOR:.2f})")
    return found


def target_counts(throughput: list[Record], expiry: list[Record], flat: list[Record]) -> dict[str, list[int]]:
    """[met, evaluated] per target."""
    def count(values: list[bool | None]) -> list[int]:
        judged = [value for value in values if value is not None]
        return [sum(judged), len(judged)]

    return {"bookcore/raw >= target (holds, finalize)": count([row["meets_raw"] for row in throughput]),
            "ahead of the ORM pattern": count([row["meets_orm"] for row in throughput]),
            f"expiry >= {EXPIRE_TARGET:.2f} of raw": count([row.get("meets_raw") for row in expiry]),
            "expiry memory flat": count([row["meets"] for row in flat])}
