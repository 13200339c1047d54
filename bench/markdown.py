"""The results as Markdown, written into docs/benchmarks.md between two markers (or, where the
file has none, as the whole file), so a re-run replaces the tables and keeps the prose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import BACKEND_TITLES, EXPIRE_TARGET, FLAT_MEMORY_FACTOR

START = "<!-- results: written by `python -m bench --markdown`; edits here are replaced -->"
END = "<!-- end of results -->"
Record = dict[str, Any]


def _n(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, meets: bool | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}" + ("" if meets is None else (" ✓" if meets else " ✗"))


def _machine(results: Record) -> list[str]:
    machine, settings = results["machine"], results["settings"]
    lines = [f"Run {results['started_at']}, {results['seconds']:,.0f} s, "
             f"{'quick' if settings['quick'] else 'full'} settings: {settings['rounds']} round(s) of "
             f"{settings['seconds_per_round']} s per implementation and point, "
             f"{', '.join(map(str, settings['client_counts']))} client processes, "
             f"{settings['spread_items']:,} items in the spread shape.", "",
             f"Machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gb']} GB, "
             f"{machine['platform']}, Python {machine['python']}, "
             + ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
             + f"; load average {machine['load_average'][0]:.2f} at the start, "
             f"{results['load_average_after'][0]:.2f} at the end."]
    for name, info in results["backends"].items():
        details = ", ".join(f"{key} {value}" for key, value in info.items() if key != "version")
        lines.append(f"{BACKEND_TITLES[name]} {info['version']}: {details}.")
    return lines


def _throughput(rows: list[Record], backend: str) -> list[str]:
    lines = ["| operation | shape | processes | bookcore/s | raw/s | ORM/s | bookcore/raw (target) "
             "| bookcore/ORM | CPU µs/call bookcore · raw · ORM |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|"]
    for row in rows:
        if row["backend"] != backend:
            continue
        target = "" if row["target_raw"] is None else f" ({row['target_raw']:.2f})"
        cpu = " · ".join(_n(row[f"{name}_cpu_us"]) for name in ("bookcore", "raw", "orm"))
        lines.append(f"| {row['operation']} | {row['shape']} | {row['clients']} "
                     f"| {_n(row['bookcore_per_s'])} | {_n(row['raw_per_s'])} | {_n(row['orm_per_s'])} "
                     f"| {_ratio(row['ratio_raw'], row['meets_raw'])}{target} "
                     f"| {_ratio(row['ratio_orm'], row['meets_orm'])} | {cpu} |")
    return lines


def _expiry(rows: list[Record], flat: list[Record]) -> list[str]:
    lines = [f"| database | lapsed holds | bookcore rows/s | raw rows/s | ORM rows/s "
             f"| bookcore/raw (target {EXPIRE_TARGET:.2f}) | peak RSS MB bookcore · raw · ORM |",
             "|---|--:|--:|--:|--:|--:|--:|"]
    for row in rows:
        peaks = " · ".join(_n(row[f"{name}_peak_mb"], 1) for name in ("bookcore", "raw", "orm"))
        rates = " | ".join(_n(row[f"{name}_rows_per_s"]) for name in ("bookcore", "raw", "orm"))
        lines.append(f"| {BACKEND_TITLES[row['backend']]} | {row['lapsed']:,} | {rates} "
                     f"| {_ratio(row.get('ratio_raw'), row.get('meets_raw'))} | {peaks} |")
    for row in flat:
        lines.append("")
        smallest, largest = row["peak_mb"]
        verdict = "met" if row["meets"] else "missed"
        lines.append(f"{BACKEND_TITLES[row['backend']]}: bookcore's sweep peaked at {smallest:.1f} MB for "
                     f"{row['smallest']:,} lapsed holds and {largest:.1f} MB for {row['largest']:,} "
                     f"(x{row['factor']:.2f}; flat is at most x{FLAT_MEMORY_FACTOR:.2f}): {verdict}.")
    return lines


def results_section(results: Record, plot_name: str | None) -> str:
    summary = results["summary"]
    lines = [START, "", *_machine(results), ""]
    if plot_name:
        lines += [f"![calls per second against client processes]({plot_name})", ""]
    for backend in results["backends"]:
        lines += [f"### {BACKEND_TITLES[backend]}", "", *_throughput(summary["throughput"], backend), ""]
    if summary["expiry"]:
        lines += ["### Expiry sweep", "", *_expiry(summary["expiry"], summary["flat"]), ""]
    lines += ["### Targets", ""]
    lines += [f"- {name}: {met} of {judged} points" for name, (met, judged) in summary["targets"].items()]
    lines += ["", "Missed:" if results["misses"] else "Every target met.", ""]
    lines += [f"- {miss}" for miss in results["misses"]]
    lines += ["", *(f"Note: {note}" for note in results["notes"]), END]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def write(path: Path, section: str) -> None:
    """Replace the results between the markers in ``path``, or write the section as the file."""
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        before, after = text.split(START, 1)[0], text.split(END, 1)[1]
        path.write_text(before + section.rstrip("\n") + after)
    else:
        path.write_text(section)
