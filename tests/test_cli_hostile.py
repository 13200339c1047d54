"""Hostile values for every CLI command that takes input: each must be refused with one clear line
(exit 2 for bad input, 3 for a business refusal), never a traceback, and leave the database
exactly as it was. Counted in the same tally as test_hostile_input.py (BOOKCORE_HOSTILE_REPORT)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from bookcore.cli import app
from bookcore.money import MINOR_UNITS
from tests.cli_db import engine_for, fresh_database

runner = CliRunner()
TALLY: Counter[str] = Counter()
HOSTILE = settings(max_examples=min(60, settings().max_examples), deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
REFUSED = {2, 3}  # bad input / business refusal (see `bookcore --help`)

# What a shell can hand over: any text, so the hostile values are hostile strings. The CLI takes
# currency codes in any case ("inr" is INR), so those are not hostile here.
def _not_a_valid_amount(text: str) -> bool:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return True
    return not number.is_finite() or number < 0 or number != number.quantize(Decimal("0.01"))


hostile_amounts = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-Infinity", "-1", "-0.01", "1e400", "0x10", "1,000", "",
                     " ", "1.005", "10.001", "9223372036854775808", "1" * 40, "5 5", "$5"]),
    st.decimals(allow_nan=False, allow_infinity=False, max_value=-1).map(str),
    st.text(max_size=12).filter(_not_a_valid_amount),
)
hostile_ids = st.one_of(
    st.sampled_from(["", " ", " leading", "trailing ", "tab\there", "new\nline", "x" * 65, "\u202e"]),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=5),
    st.text(min_size=65, max_size=200),
)
hostile_keys = st.one_of(
    st.sampled_from(["", " ", " leading", "trailing ", "tab\there", "new\nline", "k" * 129]),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=5),
    st.text(min_size=129, max_size=300),
)
hostile_currencies = st.one_of(st.sampled_from(["XXX", "", "INR ", " INR", "EURO", "1NR", "₹"]),
                               st.text(max_size=5).filter(lambda s: s.strip().upper() not in MINOR_UNITS))
hostile_capacities = st.sampled_from(["-1", "1.5", "x", "", "99999999999999999999", "NaN"])


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine, str]]:
    """A SQLite store with an item, a funded wallet and a held booking, shared by the examples
    (each leaves it unchanged, which is the point)."""
    url = fresh_database("sqlite", tmp_path_factory.mktemp("hostile-cli"))
    for args in (["inventory", "add", "room", "--capacity", "3", "--unit-price", "1000.00"],
                 ["wallet", "credit", "alice", "--amount", "500.00"]):
        assert runner.invoke(app, ["--database-url", url, *args]).exit_code == 0
    held = runner.invoke(app, ["--database-url", url, "hold", "--item", "room", "--customer", "alice",
                               "--json"])
    assert held.exit_code == 0, held.output
    engine = engine_for(url)
    yield url, engine, json.loads(held.stdout)["booking"]["id"]
    engine.dispose()
    if path := os.environ.get("BOOKCORE_HOSTILE_REPORT"):
        with open(path, "a", encoding="utf-8") as report:
            report.write(json.dumps(dict(TALLY)) + "\n")


def snapshot(engine: Engine) -> Any:
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        return (list(uow.audit.item_occupancy()), list(uow.audit.wallet_totals()),
                list(uow.audit.booking_money()), list(uow.bookings.list(limit=1000)),
                list(uow.wallets.entries("alice", "INR")), list(uow.inventory.list()))


def refused(database: tuple[str, Engine, str], *args: str) -> None:
    url, engine, _ = database
    before = snapshot(engine)
    TALLY["tried"] += 1
    result = runner.invoke(app, ["--database-url", url, *args])
    assert result.exit_code in REFUSED, (args, result.exit_code, result.output)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert snapshot(engine) == before
    TALLY["refused"] += 1


@HOSTILE
@given(amount=hostile_amounts)
def test_hostile_wallet_amounts(database: Any, amount: str) -> None:
    refused(database, "wallet", "credit", "alice", "--amount", amount)


@HOSTILE
@given(customer=hostile_ids, currency=hostile_currencies)
def test_hostile_wallet_identities(database: Any, customer: str, currency: str) -> None:
    refused(database, "wallet", "credit", customer, "--amount", "10.00", "--currency", currency)


@HOSTILE
@given(item_id=hostile_ids, price=hostile_amounts, capacity=hostile_capacities,
       currency=hostile_currencies, which=st.integers(0, 3))
def test_hostile_inventory(database: Any, item_id: str, price: str, capacity: str, currency: str,
                           which: int) -> None:
    # One hostile value at a time, so the refusal is for that value and not another.
    args = {"item": "new-item", "price": "10.00", "capacity": "3", "currency": "INR"}
    args[("item", "price", "capacity", "currency")[which]] = (item_id, price, capacity, currency)[which]
    refused(database, "inventory", "add", args["item"], "--unit-price", args["price"], "--capacity",
            args["capacity"], "--currency", args["currency"])


@HOSTILE
@given(item=hostile_ids, customer=hostile_ids, quantity=st.sampled_from(["0", "-1", "4", "x", "1.5"]),
       ttl=st.sampled_from(["0", "-5", "100000", "x"]), which=st.integers(0, 3))
def test_hostile_holds(database: Any, item: str, customer: str, quantity: str, ttl: str,
                       which: int) -> None:
    args = {"item": "room", "customer": "bob", "quantity": "1", "ttl": "10"}
    args[("item", "customer", "quantity", "ttl")[which]] = (item, customer, quantity, ttl)[which]
    refused(database, "hold", "--item", args["item"], "--customer", args["customer"], "--quantity",
            args["quantity"], "--ttl-minutes", args["ttl"])


@HOSTILE
@given(booking=hostile_ids, key=hostile_keys, amount=hostile_amounts, currency=hostile_currencies,
       which=st.integers(0, 3))
def test_hostile_payments(database: Any, booking: str, key: str, amount: str, currency: str,
                          which: int) -> None:
    _, _, held = database
    args = {"booking": held, "key": "k-1", "amount": "500.00", "currency": "INR"}
    args[("booking", "key", "amount", "currency")[which]] = (booking, key, amount, currency)[which]
    refused(database, "pay", args["booking"], "--key", args["key"], "--gateway-amount", args["amount"],
            "--currency", args["currency"])


@HOSTILE
@given(booking=hostile_ids, actor=st.one_of(hostile_ids, st.just("mallory")))
def test_hostile_cancellations(database: Any, booking: str, actor: str) -> None:
    _, _, held = database
    # mallory is a well-formed id but not the booking's customer: a refusal, not bad input.
    refused(database, "cancel", held if actor == "mallory" else booking, "--actor", actor)


@HOSTILE
@given(booking=hostile_ids)
def test_hostile_lookups(database: Any, booking: str) -> None:
    refused(database, "show", booking)


# ---- the real command, as a process: every edge ends in one line and a documented code ----------

DOCUMENTED_EXIT_CODES = {0, 1, 2, 3, 4, 5, 6, 7}  # `bookcore --help`, docs/cli.md
PASSWORD = "pw-Zq9"
UNREACHABLE = f"postgresql+psycopg://ops:{PASSWORD}@127.0.0.1:1/shop"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A directory holding a migrated SQLite store with an item and a held booking."""
    directory = tmp_path_factory.mktemp("cli-process")
    url = fresh_database("sqlite", directory)
    for args in (["inventory", "add", "room", "--capacity", "3", "--unit-price", "1000.00"],
                 ["hold", "--item", "room", "--customer", "alice", "--booking-id", "b-1"]):
        assert runner.invoke(app, ["--database-url", url, *args]).exit_code == 0
    return directory, url


def process(cwd: Path, url: str, *args: str, stdout: int | IO[str] = subprocess.PIPE
            ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOOKCORE_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "bookcore", *args], cwd=cwd, env=env, text=True,
                          stdout=stdout, stderr=subprocess.PIPE, timeout=120, check=False)
    output = (done.stdout or "") + done.stderr
    assert done.returncode in DOCUMENTED_EXIT_CODES, (args, done.returncode, output)
    assert "Traceback" not in output, output
    assert PASSWORD not in output, output
    if done.returncode not in (0, 1):
        # The reason is one line: ours ("error: code: ...") or the parser's ("Error: ...").
        reasons = [line for line in done.stderr.splitlines() if line.lower().startswith("error")]
        assert len(reasons) == 1, (args, done.stderr)
    return done


EDGES: list[tuple[list[str], int, str]] = [
    # An empty URL is not "***n***o***t***...": masking never rewrites the message's text.
    (["expire", "--database-url", ""], 2, "error: invalid_input: not a database URL;"),
    (["--database-url", "postgresql+psycopg://ops:s@127.0.0.1:1/shop", "expire"], 4,
     "error: database_unavailable: the database is unreachable"),
    (["db", "upgrade", "--database-url", UNREACHABLE], 4, "error: database_unavailable:"),
    (["db", "upgrade", "--database-url", f"postgresql+psycopg://ops:{PASSWORD}@nohost.invalid/x"], 4,
     "error: database_unavailable:"),
    (["expire", "--database-url", f"mysql://ops:{PASSWORD}@127.0.0.1:1/shop"], 2,
     "pip install 'bookcore[mysql]' and use mysql+pymysql://ops:***@127.0.0.1:1/shop"),
    (["audit", "--sweep-interval-minutes", "10000000000000"], 2, "--sweep-interval-minutes"),
    (["audit", "--sweep-interval-minutes", "0"], 2, "--sweep-interval-minutes"),
    (["expire", "--batch-size", "99999999999999999999"], 2, "--batch-size"),
    (["expire", "--every", "99999999999999999999h"], 2, "--every"),
    (["quote", "--unit-price", "10", "--promo-percent", "10"], 2, "give --promo too"),
    (["quote", "--unit-price", "10", "--promo", "X", "--promo-percent", "10", "--promo-amount", "1"], 2,
     "not both"),
    (["quote", "--unit-price", "10", "--customer", "alice"], 2, "--customer goes with --item"),
    (["quote", "--item", "room", "--customer", "alice", "--wallet", ""], 2, "come from the database"),
    (["quote", "--unit-price", "1e400"], 2, "largest supported amount"),
    (["hold", "--item", "room", "--customer", "bob", "--quantity", "99999999999999999999"], 2, "quantity"),
    (["inventory", "add", "x", "--capacity", "1", "--unit-price", "1", "--starts-at", "2026-01-01T00:00"],
     2, "value=2026-01-01T00:00:00)"),
    (["show", "nobody"], 3, "error: booking_not_found:"),
]


@pytest.mark.parametrize(("args", "code", "says"), EDGES, ids=[" ".join(edge[0])[:60] for edge in EDGES])
def test_every_cli_edge_is_one_line_and_a_documented_code(workdir: tuple[Path, str], args: list[str],
                                                          code: int, says: str) -> None:
    done = process(*workdir, *args)
    assert done.returncode == code, done.stderr
    assert says in done.stderr
    assert "***n***" not in done.stderr


@pytest.mark.parametrize("args", [["expire"], ["expire", "--json"], ["show", "b-1"], ["--help"]])
def test_output_to_a_full_disk_is_exit_7_and_one_line(workdir: tuple[Path, str], args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = process(*workdir, *args, stdout=full)
    assert done.returncode == 7
    assert done.stderr.startswith("error: output_failed:") and done.stderr.count("\n") == 1


def test_amounts_print_in_minor_units_and_counts_in_words(workdir: tuple[Path, str]) -> None:
    credited = process(*workdir, "wallet", "credit", "carol", "--amount", "1e3")
    assert credited.stdout == "credited 1000.00 INR; carol wallet balance: 1000.00 INR\n"
    assert process(*workdir, "wallet", "balance", "nobody").stdout == "nobody wallet balance: 0.00 INR\n"
    assert process(*workdir, "expire", "--dry-run").stdout == \
        "dry run: would expire 0 bookings, 0 units; nothing changed\n"


_extreme_numbers = st.sampled_from(["0", "-1", "1", "", " ", "x", "nan", "inf", "1e400", "-0",
                                    "9223372036854775808", "99999999999999999999", "1.5", "0x10"])
# No --every: a valid one ("1") would loop until stopped, by design.
_number_options = st.sampled_from(["--quantity", "--batch-size", "--ttl-minutes",
                                   "--sweep-interval-minutes", "--unit-price", "--wallet", "--tax-percent",
                                   "--promo-percent", "--promo-amount", "--capacity", "--amount",
                                   "--gateway-amount", "--fee", "--starts-at"])
# Any text a shell can pass (argv cannot hold NUL).
_extreme_texts = st.one_of(
    st.sampled_from(["", " ", "x" * 300, "new\nline", "\u202e", "%s%n", "'; DROP TABLE bookings; --",
                     "../../etc/passwd", "--json", "sqlite:///", "mysql://", "postgresql+psycopg://u:@/"]),
    st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=20))
_text_options = st.sampled_from(["--currency", "--promo", "--booking-id", "--key", "--reference",
                                 "--actor", "--refund-mode", "--log-level", "--name", "--reason", "--item",
                                 "--customer", "--database-url"])
_extras = st.lists(st.one_of(st.tuples(_number_options, _extreme_numbers),
                             st.tuples(_text_options, _extreme_texts)), max_size=3)
_commands = st.sampled_from([["quote", "--unit-price", "10"], ["expire"], ["expire", "--dry-run"],
                             ["audit"], ["hold", "--item", "room", "--customer", "bob"],
                             ["inventory", "add", "y"], ["wallet", "credit", "dave"],
                             ["pay", "b-1", "--key", "k"], ["db", "current"]])


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=_commands, extras=_extras)
def test_extreme_options_never_crash_the_command(workdir: tuple[Path, str], command: list[str],
                                                 extras: list[tuple[str, str]]) -> None:
    process(*workdir, *command, *(token for pair in extras for token in pair))
