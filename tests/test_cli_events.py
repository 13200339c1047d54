"""``bookcore events``: the outbox printed, as JSON lines, and read-and-acknowledged by a consumer."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
from bookcore.cli import app
from bookcore.clock import ManualClock
from bookcore.outbox import consumer_position
from bookcore.wallet import credit_wallet
from tests.cli_db import KINDS, fresh_database
from tests.cli_db import engine_for as engine
from tests.conftest import START

runner = CliRunner()


def funded(url: str, *amounts: str) -> None:
    uow = SqlAlchemyUnitOfWork(engine(url))
    for amount in amounts:
        credit_wallet(uow, customer_id="alice", amount=Decimal(amount), currency="INR",
                      reason="top-up", clock=ManualClock(START))


@pytest.mark.parametrize("kind", KINDS)
def test_events_prints_the_outbox_as_json_lines(kind: str, tmp_path: Path) -> None:
    url = fresh_database(kind, tmp_path)
    funded(url, "1.50", "2.25")
    result = runner.invoke(app, ["--database-url", url, "events", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["name"] for line in lines] == ["WALLET_CREDITED"] * 2
    assert [line["payload"]["amount"] for line in lines] == ["1.50", "2.25"]
    later = runner.invoke(app, ["--database-url", url, "events", "--json",
                                "--after", str(lines[0]["position"])])
    assert [json.loads(line)["payload"]["amount"] for line in later.stdout.splitlines()] == ["2.25"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_consumer_reads_each_event_once(kind: str, tmp_path: Path) -> None:
    url = fresh_database(kind, tmp_path)
    funded(url, "1.00")
    first = runner.invoke(app, ["--database-url", url, "events", "--consumer", "mailer", "--limit", "1"])
    assert first.exit_code == 0, first.output
    assert "[WALLET_CREDITED]" in first.stdout
    funded(url, "2.00")
    second = runner.invoke(app, ["--database-url", url, "events", "--consumer", "mailer"])
    assert second.stdout.count("[WALLET_CREDITED]") == 1
    assert '"amount":"2.00"' in second.stdout
    assert consumer_position(SqlAlchemyUnitOfWork(engine(url)), consumer="mailer") > 0
    assert runner.invoke(app, ["--database-url", url, "events", "--consumer", "mailer"]).stdout == ""
