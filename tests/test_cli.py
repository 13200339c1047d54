"""The ``bookcore`` command through typer's runner: exit codes, JSON schemas, refusals, database errors.

The same commands run as real processes in test_cli_subprocess.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from bookcore.cli import app, sweep
from bookcore.cli.output import mask_url
from bookcore.errors import DatabaseUnavailable
from bookcore.holds import expire_holds
from tests.cli_db import KINDS, fresh_database, seed_lapsed_holds, unmigrated_database
from tests.cli_db import engine_for as engine

runner = CliRunner()
UNREACHABLE = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/test"
PRICING_KEYS = {"currency", "unit_price", "quantity", "subtotal", "discount", "fee_lines", "fees",
                "tax_percent", "tax", "total_amount", "wallet_applied", "gateway_payable",
                "promo_code", "promo_refusal", "priced_at", "requires_gateway"}
BOOKING_KEYS = {"id", "item_id", "customer_id", "quantity", "status", "pricing", "reserved_at",
                "expires_at", "confirmed_at", "expired_at", "cancelled_at", "request_fingerprint"}
REFUND_KEYS = {"id", "booking_id", "payment_id", "currency", "to_wallet", "to_gateway", "mode", "reason",
               "created_at", "charge_reference", "executed_at", "refund_reference"}
EXPIRE_KEYS = {"database", "started_at", "dry_run", "completed", "expired_bookings", "released_units",
               "batches", "error"}


def cli(url: str | None, *args: str, env: dict[str, str] | None = None) -> Result:
    prefix = ["--database-url", url] if url is not None else []
    return runner.invoke(app, [*prefix, *args], env=env)


def ok_json(url: str | None, *args: str) -> Any:
    result = cli(url, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(params=KINDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_database(request.param, tmp_path)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return fresh_database("sqlite", tmp_path)


# ---- no database needed ------------------------------------------------------------------------

def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("db", "expire", "audit", "inventory", "wallet", "quote", "hold", "pay", "cancel",
                    "show", "demo", "refunds-owed", "refund-executed", "BOOKCORE_DATABASE_URL",
                    "Exit codes"):
        assert command in result.stdout


def test_pure_quote_prints_the_breakdown_and_its_json() -> None:
    args = ["quote", "--unit-price", "1500", "--quantity", "2", "--promo", "SAVE10", "--promo-percent",
            "10", "--fee", "convenience:percentage:2", "--tax-percent", "18", "--wallet", "500"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "gateway payable          2749.72" in result.stdout
    pricing = ok_json(None, *args)
    assert set(pricing) == PRICING_KEYS
    assert (pricing["total_amount"], pricing["gateway_payable"]) == ("3249.72", "2749.72")


@pytest.mark.parametrize("args", [
    ["nonsense"],
    ["quote"],
    ["quote", "--unit-price", "abc"],
    ["quote", "--unit-price", "10", "--fee", "no-colons"],
    ["quote", "--unit-price", "10", "--item", "room"],
    ["quote", "--item", "room"],
    ["quote", "--item", "room", "--customer", "c", "--wallet", "5"],
    ["expire", "--batch-size", "0"],
    ["expire", "--every", "5 fortnights"],
    ["expire", "--every", "0s"],
    ["hold", "--item", "room"],
    ["hold", "--item", "room", "--customer", "c", "--ttl-minutes", "0"],
    ["cancel", "b1", "--actor", "a", "--refund-mode", "bogus"],
    ["pay", "b1", "--key", "k"],
    ["audit", "--sweep-interval-minutes", "zero"],
    ["demo", "--path", "x.db", "--database-url", "sqlite://"],
])
def test_bad_arguments_exit_2_without_a_traceback(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_passwords_are_masked_in_urls() -> None:
    assert mask_url("postgresql+psycopg://ops:hunter2@db/prod") == "postgresql+psycopg://ops:***@db/prod"
    assert "hunter2" not in mask_url("not a url hunter2")


# ---- database trouble --------------------------------------------------------------------------

DB_COMMANDS = [["expire"], ["expire", "--dry-run"], ["audit"], ["db", "current"], ["inventory", "show"],
               ["show", "b1"], ["wallet", "balance", "asha"], ["hold", "--item", "r", "--customer", "c"]]


@pytest.mark.parametrize("args", [*DB_COMMANDS, ["db", "upgrade"]])
def test_an_unreachable_database_is_one_line_and_exit_4(args: list[str]) -> None:
    result = cli(UNREACHABLE, *args)
    assert result.exit_code == 4, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: database_unavailable")
    assert "s3cret-pw" not in result.output


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("args", DB_COMMANDS)
def test_an_unmigrated_database_says_run_db_upgrade_and_exits_5(kind: str, args: list[str],
                                                                tmp_path: Path) -> None:
    result = cli(unmigrated_database(kind, tmp_path), *args)
    assert result.exit_code == 5, result.output
    assert result.stderr.count("\n") == 1 and "schema_not_migrated" in result.stderr


def test_a_sqlite_file_that_cannot_be_opened_is_unreachable() -> None:
    result = cli("sqlite:////no-such-directory/bookcore.db", "db", "upgrade")
    assert result.exit_code == 4 and result.stderr.startswith("error: database_unavailable")


def test_a_missing_sqlite_file_is_not_created_except_by_db_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    result = cli(f"sqlite:///{path}", "audit")
    assert result.exit_code == 5 and "bookcore db upgrade" in result.stderr
    assert not path.exists()
    upgraded = ok_json(f"sqlite:///{path}", "db", "upgrade")
    assert upgraded["previous"] is None and upgraded["current"] == upgraded["head"]
    assert cli(f"sqlite:///{path}", "audit").exit_code == 0


def test_a_url_that_is_not_a_database_url_is_a_bad_argument() -> None:
    result = cli("definitely not a url", "audit")
    assert result.exit_code == 2 and result.stderr.startswith("error: invalid_input")


# ---- configuration -----------------------------------------------------------------------------

def test_the_url_comes_from_the_environment_and_a_command_option_wins(sqlite_url: str,
                                                                     tmp_path: Path) -> None:
    result = cli(None, "db", "current", env={"BOOKCORE_DATABASE_URL": sqlite_url})
    assert result.exit_code == 0 and sqlite_url in result.stdout
    other = f"sqlite:///{tmp_path / 'other.db'}"
    result = runner.invoke(app, ["--database-url", other, "db", "current", "--database-url", sqlite_url])
    assert result.exit_code == 0 and sqlite_url in result.stdout


# ---- migrations --------------------------------------------------------------------------------

def test_db_upgrade_is_repeatable_and_db_current_reports_head(url: str) -> None:
    again = ok_json(url, "db", "upgrade")
    assert set(again) == {"database", "previous", "current", "head"}
    assert again["previous"] == again["current"] == again["head"]
    current = ok_json(url, "db", "current")
    assert current == {"database": mask_url(url), "current": again["head"], "head": again["head"],
                       "up_to_date": True}
    assert "already at revision" in cli(url, "db", "upgrade").stdout


def test_db_upgrade_creates_the_schema_on_an_empty_database(tmp_path: Path) -> None:
    url = unmigrated_database("sqlite", tmp_path)
    assert cli(url, "db", "current").exit_code == 5
    result = cli(url, "db", "upgrade")
    assert result.exit_code == 0 and "upgraded (empty) ->" in result.stdout
    assert cli(url, "db", "current").exit_code == 0


# ---- support commands --------------------------------------------------------------------------

def test_a_booking_from_hold_to_cancellation(url: str) -> None:
    item = ok_json(url, "inventory", "add", "suite-7", "--capacity", "2", "--unit-price", "4200.00",
                   "--name", "Suite 7", "--starts-at", "2030-01-01T14:00:00+05:30")
    assert item["available"] == 2 and item["starts_at"] == "2030-01-01T08:30:00Z"
    assert [i["id"] for i in ok_json(url, "inventory", "show")] == ["suite-7"]
    credited = ok_json(url, "wallet", "credit", "asha", "--amount", "1000.00", "--reason", "goodwill")
    assert credited == {"customer_id": "asha", "currency": "INR", "balance": "1000.00"}
    quoted = ok_json(url, "quote", "--item", "suite-7", "--customer", "asha", "--tax-percent", "0")
    assert set(quoted) == PRICING_KEYS and quoted["gateway_payable"] == "3200.00"

    held = ok_json(url, "hold", "--item", "suite-7", "--customer", "asha", "--booking-id", "bk-1")
    assert set(held) == {"outcome", "booking", "seconds_left"} and held["outcome"] == "created"
    assert set(held["booking"]) == BOOKING_KEYS and 590 < held["seconds_left"] <= 600
    retried = ok_json(url, "hold", "--item", "suite-7", "--customer", "asha", "--booking-id", "bk-1")
    assert retried["outcome"] == "exists"
    shown = ok_json(url, "show", "bk-1")
    assert set(shown) == {"booking", "seconds_left", "payments", "refunds"}
    assert shown["booking"]["status"] == "held" and shown["payments"] == []

    paid = ok_json(url, "pay", "bk-1", "--key", "gw-1", "--gateway-amount", "3200.00", "--reference", "r1")
    assert set(paid) == {"outcome", "replayed", "booking", "payment", "refund"}
    assert (paid["outcome"], paid["replayed"], paid["booking"]["status"]) == ("confirmed", False, "confirmed")
    assert ok_json(url, "pay", "bk-1", "--key", "gw-1", "--gateway-amount", "3200.00",
                   "--reference", "r1")["replayed"] is True
    human = cli(url, "show", "bk-1")
    assert human.exit_code == 0 and "confirmed" in human.stdout and "gw-1" in human.stdout

    cancelled = ok_json(url, "cancel", "bk-1", "--actor", "asha")
    assert set(cancelled) == {"booking", "old_status", "released_units", "refund"}
    assert cancelled["refund"]["to_wallet"] == "4200.00" and cancelled["old_status"] == "confirmed"
    history = ok_json(url, "wallet", "history", "asha")
    assert set(history) == {"customer_id", "currency", "balance", "entries"}
    assert [e["kind"] for e in history["entries"]] == ["credit", "debit", "credit"]
    assert history["balance"] == "4200.00"
    assert ok_json(url, "wallet", "balance", "asha")["balance"] == "4200.00"
    assert ok_json(url, "audit")["ok"] is True


def test_human_output_of_the_support_commands(url: str) -> None:
    assert "added room" in cli(url, "inventory", "add", "room", "--capacity", "1",
                               "--unit-price", "10").stdout
    assert "room" in cli(url, "inventory", "show", "room").stdout
    assert "balance: 5.00 INR" in cli(url, "wallet", "credit", "bo", "--amount", "5").stdout
    held = cli(url, "hold", "--item", "room", "--customer", "bo", "--booking-id", "b")
    assert held.exit_code == 0 and held.stdout.startswith("created: booking b holds room x 1")
    assert "s left" in cli(url, "show", "b").stdout
    paid = cli(url, "pay", "b", "--key", "k", "--gateway-amount", "5.00")
    assert paid.exit_code == 0 and paid.stdout.startswith("confirmed: booking b is confirmed")
    cancelled = cli(url, "cancel", "b", "--actor", "ops-1", "--staff", "--refund-mode", "original")
    assert cancelled.exit_code == 0 and "refunded 5.00 INR to the wallet and 5.00" in cancelled.stdout
    assert "debit" in cli(url, "wallet", "history", "bo").stdout
    assert cli(url, "audit").stdout.startswith("audit ok: checked 1 item, 1 wallet, 1 booking (")


def test_captured_money_owed_back_is_listed_until_marked_executed(url: str) -> None:
    cli(url, "inventory", "add", "room", "--capacity", "2", "--unit-price", "10.00")
    ok_json(url, "hold", "--item", "room", "--customer", "c", "--booking-id", "b")
    assert ok_json(url, "refunds-owed") == []
    assert cli(url, "refunds-owed").stdout == "no gateway refunds owed\n"
    paid = ok_json(url, "pay", "b", "--key", "ch_1", "--gateway-amount", "12.00", "--currency", "EUR",
                   "--reference", "ch_1")
    assert (paid["outcome"], paid["payment"]["reason"]) == ("gateway_refund_required", "currency_mismatch")
    owed = ok_json(url, "refunds-owed")
    assert [set(r) for r in owed] == [REFUND_KEYS]
    assert (owed[0]["to_gateway"], owed[0]["currency"], owed[0]["charge_reference"]) == (
        "12.00", "EUR", "ch_1")
    human = cli(url, "refunds-owed")
    assert human.exit_code == 0 and "12.00 EUR" in human.stdout and "1 gateway refund owed" in human.stdout
    done = ok_json(url, "refund-executed", owed[0]["id"], "--reference", "re_1")
    assert done["refund_reference"] == "re_1" and done["executed_at"] is not None
    assert cli(url, "refund-executed", owed[0]["id"], "--reference", "re_1").exit_code == 0
    conflict = cli(url, "refund-executed", owed[0]["id"], "--reference", "re_2")
    assert conflict.exit_code == 3 and "exists_with_different_payload" in conflict.stderr
    assert ok_json(url, "refunds-owed") == []
    assert ok_json(url, "audit")["ok"] is True


@pytest.mark.parametrize("args", [
    ["hold", "--item", "room", "--customer", "c", "--quantity", "3"],
    ["hold", "--item", "no-such-room", "--customer", "c"],
    ["show", "no-such-booking"],
    ["pay", "b", "--key", "k", "--gateway-amount", "0"],
    ["pay", "no-such-booking", "--key", "k", "--gateway-amount", "1.00"],
    ["cancel", "b", "--actor", "mallory"],
    ["inventory", "add", "room", "--capacity", "1", "--unit-price", "1"],
    ["inventory", "show", "no-such-room"],
    ["hold", "--item", "room", "--customer", "c", "--booking-id", "b", "--quantity", "2"],
    ["refund-executed", "no-such-refund", "--reference", "re_1"],
])
def test_business_refusals_exit_3_with_one_line(url: str, args: list[str]) -> None:
    cli(url, "inventory", "add", "room", "--capacity", "2", "--unit-price", "10.00")
    assert cli(url, "hold", "--item", "room", "--customer", "c", "--booking-id", "b").exit_code == 0
    result = cli(url, *args)
    assert result.exit_code == 3, result.output
    assert result.stdout == "" and result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")


@pytest.mark.parametrize("args", [
    ["pay", "b", "--key", "k", "--gateway-amount", "1.001"],
    ["pay", "b", "--key", "k", "--gateway-amount", "0", "--currency", "EUR"],
    ["wallet", "credit", "c", "--amount", "-5"],
    ["wallet", "balance", "c", "--currency", "XXX"],
    ["inventory", "add", "x", "--capacity", "1", "--unit-price", "1", "--starts-at", "2030-01-01T10:00"],
])
def test_invalid_values_exit_2(url: str, args: list[str]) -> None:
    cli(url, "inventory", "add", "room", "--capacity", "2", "--unit-price", "10.00")
    cli(url, "hold", "--item", "room", "--customer", "c", "--booking-id", "b")
    result = cli(url, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output


# ---- expire ------------------------------------------------------------------------------------

def test_expire_dry_run_counts_and_changes_nothing_then_expire_releases(url: str) -> None:
    seed_lapsed_holds(url, 5)
    dry = ok_json(url, "expire", "--dry-run")
    assert set(dry) == EXPIRE_KEYS
    assert (dry["dry_run"], dry["expired_bookings"], dry["released_units"], dry["batches"]) == (True, 5, 5, 0)
    assert ok_json(url, "expire", "--dry-run")["expired_bookings"] == 5
    done = ok_json(url, "expire", "--batch-size", "2")
    assert (done["completed"], done["expired_bookings"], done["released_units"], done["batches"],
            done["error"]) == (True, 5, 5, 3, None)
    assert ok_json(url, "inventory", "show", "lapsed-room")[0]["available"] == 5
    again = cli(url, "expire")
    assert again.exit_code == 0 and again.stdout == "expired 0 bookings, released 0 units in 1 batch\n"
    assert ok_json(url, "audit")["ok"] is True


def test_expire_failing_part_way_exits_6_and_keeps_what_committed(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_lapsed_holds(sqlite_url, 4)
    real = expire_holds

    def dies_after_two_batches(uow: Any, **options: Any) -> Any:
        return real(uow, **{**options, "max_batches": 2})

    def then_fails(uow: Any, **options: Any) -> Any:
        dies_after_two_batches(uow, **options)
        raise DatabaseUnavailable("connection lost")

    monkeypatch.setattr(sweep, "expire_holds", then_fails)
    result = cli(sqlite_url, "expire", "--batch-size", "1", "--json")
    assert result.exit_code == 6, result.output
    report = json.loads(result.stdout)
    assert (report["completed"], report["expired_bookings"], report["batches"]) == (False, 2, 2)
    assert report["error"]["code"] == "database_unavailable"
    monkeypatch.setattr(sweep, "expire_holds", real)
    assert ok_json(sqlite_url, "expire")["expired_bookings"] == 2


def test_expire_stopped_by_a_signal_reports_what_committed_and_exits_6(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_lapsed_holds(sqlite_url, 3)

    def interrupted_after_one_batch(uow: Any, **options: Any) -> Any:
        expire_holds(uow, **{**options, "max_batches": 1})
        raise KeyboardInterrupt  # what SIGTERM becomes during a single run

    monkeypatch.setattr(sweep, "expire_holds", interrupted_after_one_batch)
    result = cli(sqlite_url, "expire", "--batch-size", "1")
    assert result.exit_code == 6
    assert result.stdout.startswith("expire stopped part way: 1 batch committed (1 booking, 1 unit expired")
    assert result.stderr == "error: interrupted: interrupted before the sweep finished\n"


def test_expire_failing_before_any_batch_is_a_plain_database_error(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(uow: Any, **options: Any) -> Any:
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(sweep, "expire_holds", unreachable)
    result = cli(sqlite_url, "expire")
    assert result.exit_code == 4 and result.stdout == ""


def test_expire_every_runs_until_stopped_and_exits_0(sqlite_url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    def wait(self: sweep.StopSignal, seconds: float) -> bool:
        waits.append(seconds)
        if len(waits) == 1:
            seed_lapsed_holds(sqlite_url, 3)
        return len(waits) == 3  # stop requested during the third wait

    monkeypatch.setattr(sweep.StopSignal, "wait", wait)
    result = cli(sqlite_url, "expire", "--every", "5m", "--json")
    assert result.exit_code == 0, result.output
    runs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [run["expired_bookings"] for run in runs] == [0, 3, 0] and waits == [300.0] * 3


def test_expire_every_keeps_going_when_a_run_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep.StopSignal, "wait", lambda self, seconds: False)
    result = cli(unmigrated_database("sqlite", tmp_path), "expire", "--every", "1s", "--max-runs", "3")
    assert result.exit_code == 0
    assert result.stderr.count("schema_not_migrated") == 3


def test_run_every_stops_when_asked() -> None:
    runs: list[int] = []

    def run_once() -> int:
        runs.append(1)
        return 0

    assert sweep.run_every(run_once, interval=1.0, wait=lambda s: len(runs) == 2) == 2
    assert sweep.run_every(lambda: 0, interval=1.0, wait=lambda s: False, max_runs=4) == 4


# ---- audit -------------------------------------------------------------------------------------

def test_audit_passes_on_a_consistent_database(url: str) -> None:
    report = ok_json(url, "audit")
    assert set(report) == {"ok", "violations", "items_checked", "wallets_checked", "bookings_checked"}
    assert report["ok"] is True and report["violations"] == []
    assert cli(url, "audit").stdout.startswith("audit ok: checked 0 items")


def test_audit_lists_each_violation_and_exits_1(url: str) -> None:
    from bookcore.adapters.sqlalchemy.tables import metadata

    seed_lapsed_holds(url, 2)  # lapsed an hour ago and never swept
    inventory = next(table for table in metadata.sorted_tables if "available" in table.c)
    with engine(url).begin() as connection:
        connection.execute(update(inventory).values(available=1))
    result = cli(url, "audit")
    assert result.exit_code == 1, result.output
    assert "violation: capacity_conservation lapsed-room:" in result.stdout
    assert "violation: holds_swept bookings:" in result.stdout
    report = json.loads(cli(url, "audit", "--json").stdout)
    assert report["ok"] is False
    assert {v["rule"] for v in report["violations"]} == {"capacity_conservation", "holds_swept"}
    assert all(set(v) == {"rule", "subject", "detail"} for v in report["violations"])
    lenient = cli(url, "audit", "--sweep-interval-minutes", "120", "--json")
    assert [v["rule"] for v in json.loads(lenient.stdout)["violations"]] == ["capacity_conservation"]


# ---- demo --------------------------------------------------------------------------------------

def test_demo_tells_the_whole_story_and_ends_with_a_clean_audit(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--path", str(tmp_path / "demo.db")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for line in ("[BOOKING_HELD]", "[WALLET_CREDITED]", "[WALLET_DEBITED]", "[PAYMENT_FINALIZED]",
                 "[BOOKING_CONFIRMED]", "[BOOKING_EXPIRED]", "[BOOKING_CANCELLED]",
                 "refused, as it should be: error: insufficient_inventory", "audit ok"):
        assert line in out
    assert out.count("[BOOKING_HELD]") == 2
    assert cli(f"sqlite:///{tmp_path / 'demo.db'}", "audit").exit_code == 0


def test_demo_refuses_a_database_that_is_not_empty(url: str, tmp_path: Path) -> None:
    cli(url, "inventory", "add", "room", "--capacity", "1", "--unit-price", "1")
    result = runner.invoke(app, ["demo", "--database-url", url])
    assert result.exit_code == 2 and "empty database" in result.stderr
    existing = tmp_path / "exists.db"
    existing.touch()
    assert runner.invoke(app, ["demo", "--path", str(existing)]).exit_code == 2


@pytest.mark.postgres
def test_demo_runs_on_postgresql(tmp_path: Path) -> None:
    url = fresh_database("postgres", tmp_path)
    result = runner.invoke(app, ["demo", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "audit ok" in result.stdout
