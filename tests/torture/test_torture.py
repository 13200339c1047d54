"""The fast profile of the torture run, so CI exercises it on every change (see run.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: A sweep whose connection is killed (or whose server restarts) under it exits 4 (unavailable: the
#: commit's outcome is unknown) or 6 (stopped part way); cron's next run finishes the work.
KILLED_SWEEP_CODES = {"0", "4", "6"}
ZERO_TARGETS = ("oversells", "double_debits", "double_refunds", "unpaid_confirmations",
                "wallet_ledger_mismatches", "lost_writes")


def torture(*arguments: str) -> dict[str, object]:
    completed = subprocess.run([sys.executable, "-m", "tests.torture.run", *arguments], cwd=ROOT,
                               capture_output=True, text=True, timeout=900, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report: dict[str, object] = json.loads(completed.stdout)
    return report


@pytest.mark.postgres
def test_postgres_survives_killed_connections_and_injected_faults() -> None:
    if not os.environ.get("BOOKCORE_TEST_POSTGRES_URL"):
        pytest.skip("BOOKCORE_TEST_POSTGRES_URL is not set")
    # CI sets the restart command (pg_ctlcluster on its machine); without it nothing restarts.
    restart = os.environ.get("BOOKCORE_TEST_POSTGRES_RESTART")
    report = torture("--backend", "postgres", "--workers", "8", "--ops", "80", "--sweepers", "3",
                     *(["--restart-command", restart, "--restart-after", "4"] if restart else []))
    assert {key: report[key] for key in ZERO_TARGETS} == dict.fromkeys(ZERO_TARGETS, 0)
    faults = report["faults_injected"]
    assert isinstance(faults, dict) and faults["exceptions"] > 0 and faults["connections_killed"] > 0
    assert faults["server_restarts"] == (1 if restart else 0)
    codes = report["sweeper_exit_codes"]
    assert isinstance(codes, dict) and sum(codes.values()) > 0
    assert set(codes) <= KILLED_SWEEP_CODES, codes


@pytest.mark.mariadb
def test_mariadb_survives_killed_connections_and_injected_faults() -> None:
    if not os.environ.get("BOOKCORE_TEST_MARIADB_URL"):
        pytest.skip("BOOKCORE_TEST_MARIADB_URL is not set")
    report = torture("--backend", "mariadb", "--workers", "8", "--ops", "80", "--sweepers", "3")
    assert {key: report[key] for key in ZERO_TARGETS} == dict.fromkeys(ZERO_TARGETS, 0)
    faults = report["faults_injected"]
    assert isinstance(faults, dict) and faults["exceptions"] > 0 and faults["connections_killed"] > 0
    codes = report["sweeper_exit_codes"]
    assert isinstance(codes, dict) and sum(codes.values()) > 0 and set(codes) <= KILLED_SWEEP_CODES, codes


def test_sqlite_processes_survive_injected_faults() -> None:
    report = torture("--backend", "sqlite", "--workers", "3", "--ops", "80", "--sweepers", "2")
    assert {key: report[key] for key in ZERO_TARGETS} == dict.fromkeys(ZERO_TARGETS, 0)
    faults = report["faults_injected"]
    assert isinstance(faults, dict) and faults["exceptions"] > 0
    codes = report["sweeper_exit_codes"]
    assert isinstance(codes, dict) and sum(codes.values()) > 0 and set(codes) == {"0"}, codes
