"""Log lines: one per committed change, logfmt that no value can break or forge, the same event as
JSON-safe fields on the record, and nothing for work that rolled back."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bookcore.clock import ManualClock
from bookcore.errors import InsufficientInventory, InvalidAmount
from bookcore.logs import logfmt_value
from bookcore.model import BookingStatus
from bookcore.money import MAX_AMOUNT
from bookcore.ports import UnitOfWork
from bookcore.wallet import credit_wallet
from tests.world import World

FORGED = ('top-up\n[BOOKING_CANCELLED] booking_id=b-1 old_status=confirmed refund_amount=9999.00\r\n'
          'say "x=y" \\ and\ttab, \x1b[31m \u2028 \u202e \U0001f600 and \\n literally')
_UNQUOTE = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}


def parse_logfmt(line: str) -> dict[str, str | None]:
    """A small logfmt reader: ``key=bare``, ``key="quoted with \\ escapes"``, ``key=`` (None)."""
    fields: dict[str, str | None] = {}
    position = 0
    while position < len(line):
        key = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=").match(line, position)
        assert key is not None, f"no key at {line[position:]!r}"
        name, position = key.group(1), key.end()
        value: str | None
        if line.startswith('"', position):
            value, position = _quoted(line, position + 1)
        else:
            end = line.find(" ", position)
            end = len(line) if end < 0 else end
            value, position = line[position:end] or None, end
        assert name not in fields, f"{name} twice"
        fields[name] = value
        assert position == len(line) or line[position] == " "
        position += 1
    return fields


def _quoted(line: str, position: int) -> tuple[str, int]:
    text = []
    while line[position] != '"':
        character = line[position]
        if character == "\\":
            code = line[position + 1]
            if code in "uU":
                width = 4 if code == "u" else 8
                text.append(chr(int(line[position + 2:position + 2 + width], 16)))
                position += 2 + width
                continue
            text.append(_UNQUOTE[code])
            position += 2
            continue
        text.append(character)
        position += 1
    return "".join(text), position + 1


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What a plain ``%(message)s`` handler on the ``bookcore`` logger writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("bookcore")
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(saved)


def test_a_forged_reason_is_one_line_that_parses_back_to_the_reason(
        uow: UnitOfWork, clock: ManualClock, written: io.StringIO) -> None:
    credit_wallet(uow, customer_id="alice", amount="10.00", currency="INR", reason=FORGED, clock=clock)
    [line] = written.getvalue().splitlines()
    assert line.startswith("[WALLET_CREDITED] ")
    fields = parse_logfmt(line.removeprefix("[WALLET_CREDITED] "))
    assert fields["reason"] == FORGED
    assert (fields["customer_id"], fields["amount"], fields["booking_id"]) == ("alice", "10.00", None)


@pytest.mark.parametrize("value", ["plain", "", "two words", "a=b", 'say "hi"', "back\\slash", "tab\t",
                                   "\u00a0", "\u2029", "\x7f", "\U000e0041", "naïve"])
def test_every_value_reads_back_exactly(value: str) -> None:
    text = logfmt_value(value)
    assert parse_logfmt(f"k={text}") == {"k": value}
    assert text.isprintable() and (" " not in text or text.startswith('"'))


def test_the_record_carries_the_event_as_json_safe_fields(uow: UnitOfWork, clock: ManualClock,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    world = World(uow, clock)
    world.item(price="1234.50")
    with caplog.at_level(logging.INFO, logger="bookcore"):
        booking = world.hold("alice")
    [record] = [r for r in caplog.records if getattr(r, "bookcore_event", None) == "BOOKING_HELD"]
    fields = record.__dict__["bookcore_fields"]
    assert fields["total_amount"] == "1234.50" and fields["quantity"] == 1
    assert fields["promo_code"] is None and fields["expires_at"] == booking.expires_at.isoformat()
    assert json.loads(json.dumps(fields)) == fields
    assert parse_logfmt(record.getMessage().removeprefix("[BOOKING_HELD] ")) == {
        key: None if value is None else str(value) for key, value in fields.items()}


def test_a_refused_call_logs_nothing_of_what_it_did_before_the_refusal(
        uow: UnitOfWork, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    world = World(uow, clock)
    world.item(capacity=2)
    lapsed = world.hold("alice")
    world.fund("bob", str(MAX_AMOUNT))
    clock.advance(timedelta(minutes=11))
    with caplog.at_level(logging.INFO, logger="bookcore"):
        # The hold expires alice's lapsed hold to make room, then finds 2 units short of 3.
        with pytest.raises(InsufficientInventory):
            world.hold("bob", quantity=3)
        # The credit is written, then refused for the balance it would make.
        with pytest.raises(InvalidAmount):
            credit_wallet(uow, customer_id="bob", amount=Decimal("0.01"), currency="INR",
                          reason="top-up", clock=clock)
    assert [r.getMessage() for r in caplog.records if r.name == "bookcore"] == []
    assert world.booking(lapsed.id).status is BookingStatus.HELD
    assert len(world.ledger("bob")) == 1


def test_the_json_formatter_in_the_docs_round_trips_the_fields(uow: UnitOfWork, clock: ManualClock,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    document = (Path(__file__).parents[1] / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    [snippet] = re.findall(r"```python\n(.*?)```", document.split("## Logging")[1], re.S)
    namespace: dict[str, object] = {}
    logger = logging.getLogger("bookcore")
    saved = logger.level
    exec(snippet, namespace)
    handler = namespace["handler"]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        with caplog.at_level(logging.INFO, logger="bookcore"):
            credit_wallet(uow, customer_id="alice", amount="10.00", currency="INR", reason=FORGED,
                          clock=clock)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)
    [line] = stream.getvalue().splitlines()
    [record] = caplog.records
    written = json.loads(line)
    assert written["event"] == "WALLET_CREDITED"
    assert written["fields"] == record.__dict__["bookcore_fields"]
    assert written["fields"]["reason"] == FORGED and written["fields"]["amount"] == "10.00"
