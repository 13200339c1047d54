"""Ratios against the targets, printed as text and as the Markdown tables of docs/benchmarks.md.

A point runs in several rounds, each pairing the two implementations back to back, so a ratio is
the median of the rounds' ratios: a dip of the host's during one window moves one round, not the
figure. A round also sweeps every client count and table size, so the share the most clients
keep of the best count, and a bigger table's share of the smallest, are medians of shares taken
within one round too.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

Record = dict[str, Any]

#: bookcore / baseline throughput the issue asks for, per suite.
TARGETS = {"holds": 0.70, "finalize": 0.60, "expire": 0.50}
#: Throughput at the most clients, as a share of the best client count's.
NO_COLLAPSE = 0.80
#: Throughput at the biggest table, as a share of the smallest table's ("flat").
FLAT = 0.80


def _key(record: Record, *fields: str) -> tuple[Any, ...]:
    return tuple(record[field] for field in fields)


def _order(item: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    """Holds before finalize, then the key's own order."""
    key = item[0]
    return (list(TARGETS).index(key[0]), *key[1:])


def medians(records: list[Record]) -> list[Record]:
    """One record per (suite, backend, scale, shape, clients, implementation): the median of its
    rounds' throughput, with every round's figure beside it."""
    rounds: dict[tuple[Any, ...], list[Record]] = defaultdict(list)
    for record in records:
        rounds[_key(record, "suite", "backend", "scale", "shape", "clients", "implementation")].append(record)
    merged = []
    for group in rounds.values():
        rates = [float(record["ops_per_s"]) for record in group]
        merged.append({**group[0], "ops_per_s": round(statistics.median(rates), 1),
                       "rounds_ops_per_s": rates, "rounds": len(group)})
    return merged


def throughput_ratios(records: list[Record]) -> list[Record]:
    """bookcore / baseline for every (suite, backend, scale, shape, clients) point: the median of
    the ratios of the rounds, each pairing the two implementations' windows run back to back."""
    by_point: dict[tuple[Any, ...], dict[int, dict[str, Record]]] = defaultdict(lambda: defaultdict(dict))
    for record in records:
        point = _key(record, "suite", "backend", "scale", "shape", "clients")
        by_point[point][record.get("round", 0)][record["implementation"]] = record
    rows = []
    for (suite, backend, scale, shape, clients), rounds in sorted(by_point.items(), key=_order):
        pairs = [pair for _, pair in sorted(rounds.items()) if {"baseline", "bookcore"} <= pair.keys()]
        if not pairs:
            continue
        bases = [float(pair["baseline"]["ops_per_s"]) for pair in pairs]
        ours = [float(pair["bookcore"]["ops_per_s"]) for pair in pairs]
        ratios = [mine / base if base else 0.0 for mine, base in zip(ours, bases, strict=True)]
        ratio = statistics.median(ratios)
        rows.append({"suite": suite, "backend": backend, "scale": scale, "shape": shape,
                     "clients": clients, "baseline_per_s": statistics.median(bases),
                     "bookcore_per_s": statistics.median(ours), "ratio": round(ratio, 3),
                     "round_ratios": [round(value, 3) for value in ratios], "target": TARGETS[suite],
                     "meets": ratio >= TARGETS[suite]})
    return rows


def _series(records: list[Record]) -> list[tuple[tuple[Any, ...], list[Record]]]:
    """The median rounds of each (suite, backend, scale, shape, implementation), in report order."""
    series: dict[tuple[Any, ...], list[Record]] = defaultdict(list)
    for record in medians(records):
        series[_key(record, "suite", "backend", "scale", "shape", "implementation")].append(record)
    return sorted(series.items(), key=_order)


def collapse(records: list[Record]) -> list[Record]:
    """Throughput at the highest client count as a share of the best client count's, per series:
    the median of the rounds' shares, each within one round (a round sweeps every client count)."""
    series: dict[tuple[Any, ...], dict[int, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for record in records:
        key = _key(record, "suite", "backend", "scale", "shape", "implementation")
        series[key][record.get("round", 0)][record["clients"]] = float(record["ops_per_s"])
    rows = []
    for (suite, backend, scale, shape, implementation), rounds in sorted(series.items(), key=_order):
        most = max(clients for by_clients in rounds.values() for clients in by_clients)
        shares, bests = [], []
        for _, by_clients in sorted(rounds.items()):
            best = max(by_clients, key=lambda clients: by_clients[clients])
            if most in by_clients and by_clients[best]:
                shares.append(by_clients[most] / by_clients[best])
                bests.append(best)
        if not shares:
            continue
        share = statistics.median(shares)
        rows.append({"suite": suite, "backend": backend, "scale": scale, "shape": shape,
                     "implementation": implementation, "clients": most,
                     "best_clients": statistics.mode(bests), "share_of_best": round(share, 3),
                     "round_shares": [round(value, 3) for value in shares],
                     "meets": share >= NO_COLLAPSE})
    return rows


def scaling(records: list[Record]) -> list[Record]:
    """Throughput at each table size relative to the smallest, per (point, implementation): the
    median of the rounds' shares, each pairing the sizes' windows of one round (run back to back
    since the sizes alternate); rounds missing either size are not paired."""
    series: dict[tuple[Any, ...], dict[int, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for record in records:
        key = _key(record, "suite", "backend", "shape", "clients", "implementation")
        series[key][record["scale"]][record.get("round", 0)] = float(record["ops_per_s"])
    rows = []
    for (suite, backend, shape, clients, implementation), by_scale in sorted(series.items(), key=_order):
        base_scale = min(by_scale)
        smallest = by_scale[base_scale]
        for scale, rounds in sorted(by_scale.items()):
            shares = [rate / smallest[round_] for round_, rate in sorted(rounds.items())
                      if smallest.get(round_)]
            if scale != base_scale and shares:
                share = statistics.median(shares)
                rows.append({"suite": suite, "backend": backend, "shape": shape, "clients": clients,
                             "implementation": implementation, "from_scale": base_scale,
                             "scale": scale, "share": round(share, 3),
                             "round_shares": [round(value, 3) for value in shares],
                             "meets": share >= FLAT})
    return rows


def expire_ratios(records: list[Record]) -> list[Record]:
    pairs: dict[tuple[Any, ...], dict[str, Record]] = defaultdict(dict)
    for record in records:
        pairs[_key(record, "backend", "lapsed")][record["implementation"]] = record
    rows = []
    for (backend, lapsed), pair in sorted(pairs.items()):
        if {"baseline", "bookcore"} <= pair.keys():
            ratio = pair["bookcore"]["rows_per_s"] / pair["baseline"]["rows_per_s"]
            rows.append({"backend": backend, "lapsed": lapsed,
                         "baseline_rows_per_s": pair["baseline"]["rows_per_s"],
                         "bookcore_rows_per_s": pair["bookcore"]["rows_per_s"],
                         "ratio": round(ratio, 3), "target": TARGETS["expire"],
                         "meets": ratio >= TARGETS["expire"],
                         "bookcore_memory_growth_mb": pair["bookcore"]["rss_growth_mb"],
                         "batch_size": pair["bookcore"]["batch_size"]})
    return rows


def fairness(records: list[Record]) -> list[Record]:
    """Per (suite, backend, scale, shape, implementation): the median round at each client count,
    the share of the best that the most clients keep, and their p99 (the waits turns bound)."""
    rows = []
    for (suite, backend, scale, shape, implementation), points in _series(records):
        if len(points) < 2:
            continue
        best = max(points, key=lambda point: point["ops_per_s"])
        most = max(points, key=lambda point: point["clients"])
        p99s = [float(record["p99_ms"]) for record in records
                if _key(record, "suite", "backend", "scale", "shape", "implementation", "clients")
                == (suite, backend, scale, shape, implementation, most["clients"])]
        share = most["ops_per_s"] / best["ops_per_s"] if best["ops_per_s"] else 0.0
        rows.append({"suite": suite, "backend": backend, "scale": scale, "shape": shape,
                     "implementation": implementation,
                     "per_s": {point["clients"]: point["ops_per_s"]
                               for point in sorted(points, key=lambda point: point["clients"])},
                     "best_clients": best["clients"], "clients": most["clients"],
                     "share_of_best": round(share, 3), "p99_ms": statistics.median(p99s)})
    return rows


def summarize(throughput: list[Record], expire: list[Record],
              fair: list[Record] | None = None) -> dict[str, list[Record]]:
    return {"throughput_ratios": throughput_ratios(throughput), "collapse": collapse(throughput),
            "scaling": scaling(throughput), "fairness": fairness(fair or []),
            "expire_ratios": expire_ratios(expire)}


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _spread(values: list[float]) -> str:
    """The lowest and highest of the rounds' figures: how far one window could have misled."""
    low, high = min(values), max(values)
    return f"{low:.2f}" if len(values) == 1 else f"{low:.2f}-{high:.2f}"


def markdown(summary: dict[str, list[Record]]) -> str:
    """The result tables, as they go into docs/benchmarks.md."""
    out = ["#### Holds and finalize: bookcore / raw SQL, same run", ""]
    out += _table(["operation", "backend", "bookings in tables", "shape", "clients", "raw SQL /s",
                   "bookcore /s", "ratio (median)", "rounds' ratios", "target", "met"],
                  [[r["suite"], r["backend"], f"{r['scale']:,}", r["shape"], r["clients"],
                    f"{r['baseline_per_s']:,.0f}", f"{r['bookcore_per_s']:,.0f}", f"{r['ratio']:.2f}",
                    _spread(r["round_ratios"]), f"{r['target']:.2f}", _mark(r["meets"])]
                   for r in summary["throughput_ratios"]])
    out += ["", f"#### Most clients vs the best client count (target >= {NO_COLLAPSE:.2f})", ""]
    out += _table(["operation", "backend", "bookings in tables", "shape", "implementation", "best at",
                   "share at most clients (median)", "rounds' shares", "met"],
                  [[r["suite"], r["backend"], f"{r['scale']:,}", r["shape"], r["implementation"],
                    f"{r['best_clients']} clients", f"{r['share_of_best']:.2f} ({r['clients']} clients)",
                    _spread(r.get("round_shares") or [r["share_of_best"]]), _mark(r["meets"])]
                   for r in summary["collapse"]])
    if summary["scaling"]:
        out += ["", f"#### Bigger tables: throughput relative to the smallest (flat: >= {FLAT:.2f})", ""]
        out += _table(["operation", "backend", "shape", "clients", "implementation", "tables",
                       "share (median)", "rounds' shares", "met"],
                      [[r["suite"], r["backend"], r["shape"], r["clients"], r["implementation"],
                        f"{r['from_scale']:,} -> {r['scale']:,}", f"{r['share']:.2f}",
                        _spread(r.get("round_shares") or [r["share"]]), _mark(r["meets"])]
                       for r in summary["scaling"]])
    if summary.get("fairness"):
        out += ["", "#### Strict turns by themselves: the raw baseline behind first-come, first-served "
                    "turns (fair-baseline)", ""]
        out += _table(["operation", "backend", "shape", "implementation", "per second (clients)",
                       "best at", "share at most clients", "p99 at most clients"],
                      [[r["suite"], r["backend"], r["shape"], r["implementation"],
                        " · ".join(f"{rate:,.0f} ({clients})" for clients, rate in r["per_s"].items()),
                        f"{r['best_clients']} clients", f"{r['share_of_best']:.2f} ({r['clients']})",
                        f"{r['p99_ms']:,.0f} ms"] for r in summary["fairness"]])
    out += ["", "#### Expire: bookcore `expire_holds` / one set-based statement", ""]
    out += _table(["backend", "lapsed (+ as many live)", "raw SQL rows/s", "bookcore rows/s", "ratio",
                   "target", "met", "bookcore memory growth", "batch_size"],
                  [[r["backend"], f"{r['lapsed']:,}", f"{r['baseline_rows_per_s']:,.0f}",
                    f"{r['bookcore_rows_per_s']:,.0f}", f"{r['ratio']:.2f}", f"{r['target']:.2f}",
                    _mark(r["meets"]), f"{r['bookcore_memory_growth_mb']:.1f} MB", r["batch_size"]]
                   for r in summary["expire_ratios"]])
    return "\n".join(out) + "\n"


def misses(summary: dict[str, list[Record]]) -> list[str]:
    """One line per target missed, for the end of the printed report."""
    lines = [f"{r['suite']} {r['backend']} {r['shape']} {r['clients']} clients at {r['scale']:,}: "
             f"ratio {r['ratio']:.2f} < {r['target']:.2f}"
             for r in summary["throughput_ratios"] if not r["meets"]]
    lines += [f"{r['suite']} {r['backend']} {r['shape']} {r['implementation']} at {r['scale']:,}: "
              f"{r['clients']} clients reach {r['share_of_best']:.2f} of the best"
              for r in summary["collapse"] if not r["meets"] and r["implementation"] == "bookcore"]
    lines += [f"{r['suite']} {r['backend']} {r['shape']} {r['clients']} clients {r['implementation']}: "
              f"{r['share']:.2f} at {r['scale']:,} bookings"
              for r in summary["scaling"] if not r["meets"] and r["implementation"] == "bookcore"]
    lines += [f"expire {r['backend']} {r['lapsed']:,}: ratio {r['ratio']:.2f} < {r['target']:.2f}"
              for r in summary["expire_ratios"] if not r["meets"]]
    return lines
