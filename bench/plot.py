"""One PNG: calls per second against client processes, per database and operation, for bookcore,
the raw baseline and the ORM pattern (solid: one hot item; dashed: spread over the items)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.implementations import IMPLEMENTATIONS
from bench.report import BACKEND_TITLES
from bench.work import OPERATIONS, SHAPES

COLOURS = {"bookcore": "#1f77b4", "raw": "#555555", "orm": "#d62728"}
STYLES = {"hot": "-", "spread": "--"}


def plot(summary: list[dict[str, Any]], path: Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = list(dict.fromkeys(row["backend"] for row in summary))
    if not backends:
        return
    figure, axes = plt.subplots(len(backends), len(OPERATIONS), figsize=(15, 4.2 * len(backends)),
                                squeeze=False)
    for line, backend in enumerate(backends):
        for column, operation in enumerate(OPERATIONS):
            axis = axes[line][column]
            for implementation in IMPLEMENTATIONS:
                for shape in SHAPES:
                    rows = [row for row in summary if (row["backend"], row["operation"], row["shape"])
                            == (backend, operation, shape) and row[f"{implementation}_per_s"] is not None]
                    axis.plot([row["clients"] for row in rows],
                              [row[f"{implementation}_per_s"] for row in rows],
                              STYLES[shape], marker="o", color=COLOURS[implementation],
                              label=f"{implementation}, {shape}")
            axis.set_xscale("log", base=2)
            axis.set_xticks(sorted({row["clients"] for row in summary}))
            axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
            axis.set_ylim(bottom=0)
            axis.set_title(f"{BACKEND_TITLES[backend]}: {operation}")
            axis.set_xlabel("client processes")
            axis.set_ylabel("calls per second")
            axis.grid(alpha=0.3)
            if line == 0 and column == 0:
                axis.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
