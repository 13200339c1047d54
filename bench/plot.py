"""One PNG: holds and finalize per second against clients, and expiry rows per second, per backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import medians

Record = dict[str, Any]
COLOURS = {"baseline": "#777777", "bookcore": "#1f77b4"}
STYLES = {"hot": "-", "spread": "--"}


def plot(throughput: list[Record], expire: list[Record], path: Path, *, title: str) -> None:
    throughput = medians(throughput)  # one point per client count: the median round
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = sorted({record["backend"] for record in throughput + expire})
    if not backends:
        return
    figure, axes = plt.subplots(len(backends), 3, figsize=(15, 4.2 * len(backends)), squeeze=False)
    smallest = min((record["scale"] for record in throughput), default=0)
    for row, backend in enumerate(backends):
        for column, suite in enumerate(("holds", "finalize")):
            axis = axes[row][column]
            for implementation in ("baseline", "bookcore"):
                for shape in ("hot", "spread"):
                    points = sorted((r["clients"], r["ops_per_s"]) for r in throughput
                                    if (r["backend"], r["suite"], r["implementation"], r["shape"],
                                        r["scale"]) == (backend, suite, implementation, shape, smallest))
                    if points:
                        axis.plot([p[0] for p in points], [p[1] for p in points], STYLES[shape],
                                  marker="o", color=COLOURS[implementation],
                                  label=f"{'raw SQL' if implementation == 'baseline' else 'bookcore'}, "
                                        f"{shape}")
            counts = sorted({r["clients"] for r in throughput})
            axis.set_xscale("log", base=2)
            axis.set_xticks(counts, [str(count) for count in counts])
            axis.minorticks_off()
            axis.set_xlabel("concurrent clients")
            axis.set_ylabel(f"{suite} per second")
            axis.set_title(f"{backend}: {suite} ({smallest:,} bookings in tables)")
            axis.set_ylim(bottom=0)
            axis.grid(alpha=0.3)
            axis.legend(fontsize=8)
        _expire_bars(axes[row][2], [r for r in expire if r["backend"] == backend], backend)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _expire_bars(axis: Any, records: list[Record], backend: str) -> None:
    sizes = sorted({record["lapsed"] for record in records})
    width = 0.38
    for offset, implementation in ((-width / 2, "baseline"), (width / 2, "bookcore")):
        values = [next((r["rows_per_s"] for r in records
                        if (r["lapsed"], r["implementation"]) == (size, implementation)), 0.0)
                  for size in sizes]
        bars = axis.bar([index + offset for index in range(len(sizes))], values, width,
                        color=COLOURS[implementation],
                        label="one set-based UPDATE" if implementation == "baseline" else "expire_holds")
        if implementation == "bookcore":
            growth = [next((r["rss_growth_mb"] for r in records
                            if (r["lapsed"], r["implementation"]) == (size, implementation)), 0.0)
                      for size in sizes]
            for bar, megabytes in zip(bars, growth, strict=True):
                axis.annotate(f"+{megabytes:.0f} MB", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                              ha="center", va="bottom", fontsize=8)
    axis.set_xticks(range(len(sizes)), [f"{size:,}" for size in sizes])
    axis.set_xlabel("lapsed holds (+ as many live)")
    axis.set_ylabel("rows expired per second")
    axis.set_title(f"{backend}: expire (label: peak memory growth)")
    axis.grid(alpha=0.3, axis="y")
    axis.legend(fontsize=8)
