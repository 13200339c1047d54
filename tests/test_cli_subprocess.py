"""The ``bookcore`` command as real processes, the way cron, systemd and support staff run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bookcore.auditing import audit
from bookcore.clock import SystemClock
from bookcore.lookups import inventory_items
from tests.cli_db import KINDS, fresh_database, seed_lapsed_holds, unmigrated_database, uow_for

SCRIPT = Path(sys.executable).parent / "bookcore"


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bookcore", *args]


def run(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "BOOKCORE_DATABASE_URL"}
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=env, check=False)


def ok_json(url: str, *args: str) -> Any:
    done = run("--database-url", url, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_console_script_and_python_dash_m_are_the_same_command(tmp_path: Path) -> None:
    script = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    module = run("--help")
    assert script.returncode == module.returncode == 0
    assert script.stdout == module.stdout and "Usage: bookcore" in script.stdout


def test_pure_quote_needs_no_database_and_leaves_no_file(tmp_path: Path) -> None:
    done = run("quote", "--unit-price", "1500", "--quantity", "2", "--json", cwd=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["total_amount"] == "3000.00"
    assert list(tmp_path.iterdir()) == []


def together(url: str, *commands: tuple[str, ...]) -> list[Any]:
    """Run independent commands as concurrent processes (it halves the wait); their JSON, in order."""
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda args: ok_json(url, *args), commands))


@pytest.mark.parametrize("kind", KINDS)
def test_every_command_as_a_process(kind: str, tmp_path: Path) -> None:
    url = fresh_database(kind, tmp_path)
    upgraded, item, credited = together(
        url, ("db", "upgrade"), ("inventory", "add", "suite-7", "--capacity", "2", "--unit-price", "4200"),
        ("wallet", "credit", "asha", "--amount", "1000"))
    assert upgraded["current"] == upgraded["head"]
    assert item["available"] == 2 and credited["balance"] == "1000.00"
    booking = ok_json(url, "hold", "--item", "suite-7", "--customer", "asha")["booking"]
    current, items, balance, quoted, shown, dry = together(
        url, ("db", "current"), ("inventory", "show"), ("wallet", "balance", "asha"),
        ("quote", "--item", "suite-7", "--customer", "asha"), ("show", booking["id"]),
        ("expire", "--dry-run"))
    assert current["up_to_date"] is True and items[0]["available"] == 1
    assert balance["balance"] == "1000.00" and quoted["gateway_payable"] == "3200.00"
    assert shown["booking"]["status"] == "held" and dry["expired_bookings"] == 0
    paid = ok_json(url, "pay", booking["id"], "--key", "k1", "--gateway-amount", "3200.00")
    assert paid["outcome"] == "confirmed"
    assert ok_json(url, "cancel", booking["id"], "--actor", "asha")["refund"]["to_wallet"] == "4200.00"
    history, expired, audited = together(url, ("wallet", "history", "asha"), ("expire",), ("audit",))
    assert len(history["entries"]) == 3 and history["balance"] == "4200.00"
    assert expired["completed"] is True and audited["ok"] is True


@pytest.mark.parametrize("args", [["expire", "--batch-size", "-1"], ["quote", "--unit-price", "1.5.0"]])
def test_bad_arguments_exit_2(args: list[str], tmp_path: Path) -> None:
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres:pw-secret@127.0.0.1:1/test",
                                 "sqlite:////no-such-directory/bookcore.db"])
def test_an_unreachable_database_exits_4_with_one_line(url: str) -> None:
    done = run("--database-url", url, "db", "upgrade")
    assert done.returncode == 4
    assert done.stdout == "" and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: database_unavailable") and "pw-secret" not in done.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_an_unmigrated_database_exits_5(kind: str, tmp_path: Path) -> None:
    done = run("--database-url", unmigrated_database(kind, tmp_path), "audit")
    assert done.returncode == 5 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_the_default_database_is_an_embedded_sqlite_file(tmp_path: Path) -> None:
    assert run("expire", cwd=tmp_path).returncode == 5
    assert run("db", "upgrade", cwd=tmp_path).returncode == 0
    assert (tmp_path / "bookcore.db").exists()
    assert run("expire", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("kind", KINDS)
def test_demo_runs_from_scratch(kind: str, tmp_path: Path) -> None:
    target = [] if kind == "sqlite" else ["--database-url", fresh_database(kind, tmp_path)]
    done = run("demo", *target, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "[PAYMENT_FINALIZED]" in done.stdout and "audit ok" in done.stdout
    assert list(tmp_path.iterdir()) == []  # the default is a new temporary file, not ./bookcore.db


def test_expire_every_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    url = fresh_database("sqlite", tmp_path)
    process = subprocess.Popen(command("--database-url", url, "expire", "--every", "1h", "--json"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        assert first["completed"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def _two_sweepers(url: str) -> list[dict[str, Any]]:
    sweepers = [subprocess.Popen(command("--database-url", url, "expire", "--batch-size", "50", "--json"),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    outputs = [sweeper.communicate(timeout=120) for sweeper in sweepers]
    for sweeper, (_, stderr) in zip(sweepers, outputs, strict=True):
        assert sweeper.returncode == 0, stderr
    return [json.loads(stdout) for stdout, _ in outputs]


def _all_released_and_consistent(url: str, capacity: int) -> None:
    assert inventory_items(uow_for(url), item_id="lapsed-room")[0].available == capacity
    report = audit(uow_for(url), clock=SystemClock(), sweep_interval=timedelta(0))
    assert report.ok, report.violations  # no HELD booking left past its expiry, capacity conserved


@pytest.mark.postgres
def test_two_expire_processes_at_once_on_postgresql_release_each_hold_once(tmp_path: Path) -> None:
    url = fresh_database("postgres", tmp_path)
    seed_lapsed_holds(url, 2000)
    reports = _two_sweepers(url)
    assert sum(report["expired_bookings"] for report in reports) == 2000
    assert sum(report["released_units"] for report in reports) == 2000
    _all_released_and_consistent(url, 2000)


def test_two_expire_processes_at_once_on_sqlite_release_each_hold_once(tmp_path: Path) -> None:
    url = fresh_database("sqlite", tmp_path)
    seed_lapsed_holds(url, 300)
    reports = _two_sweepers(url)
    assert sum(report["expired_bookings"] for report in reports) == 300
    _all_released_and_consistent(url, 300)
