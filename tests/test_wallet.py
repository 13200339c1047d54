"""The wallet ledger: never negative, balance always the sum of its entries."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bookcore.adapters.memory import InMemoryUnitOfWork
from bookcore.clock import ManualClock
from bookcore.errors import InsufficientWalletBalance, InvalidAmount, InvalidInput, UnknownCurrency
from bookcore.money import MAX_AMOUNT
from bookcore.ports import UnitOfWork
from bookcore.wallet import credit_wallet, debit_wallet
from tests.world import World


def test_credits_and_debits_are_ledger_entries(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.fund("alice", "100.00")
    assert debit_wallet(uow, customer_id="alice", amount="30.50", currency="INR", reason="fix",
                        clock=clock) == Decimal("69.50")
    entries = world.ledger("alice")
    assert [(e.kind.value, e.amount) for e in entries] == [("credit", Decimal("100.00")),
                                                          ("debit", Decimal("30.50"))]
    assert sum(e.signed_amount for e in entries) == world.balance("alice")


def test_a_debit_beyond_the_balance_is_refused_and_changes_nothing(uow: UnitOfWork,
                                                                  clock: ManualClock) -> None:
    world = World(uow, clock)
    world.fund("alice", "10.00")
    with pytest.raises(InsufficientWalletBalance):
        debit_wallet(uow, customer_id="alice", amount="10.01", currency="INR", reason="x", clock=clock)
    assert world.balance("alice") == Decimal("10.00") and len(world.ledger("alice")) == 1


def test_wallets_are_per_currency(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    world.fund("alice", "10.00", currency="EUR")
    world.fund("alice", "5", currency="JPY")
    assert world.balance("alice", "EUR") == Decimal("10.00")
    assert world.balance("alice", "JPY") == Decimal("5")
    assert world.balance("alice", "INR") == 0


@pytest.mark.parametrize(("amount", "currency", "error"), [
    (10.0, "INR", InvalidAmount), ("0", "INR", InvalidAmount), ("-5", "INR", InvalidAmount),
    ("1.234", "INR", InvalidAmount), ("1", "XYZ", UnknownCurrency), ("Infinity", "INR", InvalidAmount),
])
def test_bad_credits_are_refused(uow: UnitOfWork, clock: ManualClock, amount: object, currency: str,
                                 error: type[Exception]) -> None:
    with pytest.raises(error):
        credit_wallet(uow, customer_id="alice", amount=amount, currency=currency, reason="x",
                      clock=clock)


def test_the_unit_of_work_rolls_back_unless_committed() -> None:
    uow = InMemoryUnitOfWork()
    with uow:
        uow.inventory.take("nothing", 1)
    assert uow.committed is False
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    World(uow, clock).item()
    assert uow.committed is True


@pytest.mark.parametrize("reason", [None, "", "   ", 5, b"top-up"])
def test_a_ledger_line_needs_a_reason_in_words(uow: UnitOfWork, clock: ManualClock,
                                               reason: object) -> None:
    world = World(uow, clock)
    world.fund("alice", "10.00")
    for move in (credit_wallet, debit_wallet):
        with pytest.raises(InvalidInput):
            move(uow, customer_id="alice", amount="1.00", currency="INR", reason=reason,  # type: ignore[arg-type]
                 clock=clock)
    assert world.balance("alice") == Decimal("10.00") and len(world.ledger("alice")) == 1


def test_a_long_reason_is_kept_to_its_first_200_characters(uow: UnitOfWork, clock: ManualClock) -> None:
    world = World(uow, clock)
    credit_wallet(uow, customer_id="alice", amount="1.00", currency="INR", reason="r" * 500, clock=clock)
    assert [entry.reason for entry in world.ledger("alice")] == ["r" * 200]


def test_a_top_up_past_the_largest_amount_is_refused_at_the_top_up(uow: UnitOfWork,
                                                                   clock: ManualClock) -> None:
    world = World(uow, clock)
    world.fund("alice", str(MAX_AMOUNT - 1))
    with pytest.raises(InvalidAmount) as refused:
        credit_wallet(uow, customer_id="alice", amount="1.01", currency="INR", reason="x", clock=clock)
    assert refused.value.details["field"] == "amount"
    assert world.balance("alice") == MAX_AMOUNT - 1 and len(world.ledger("alice")) == 1
    assert credit_wallet(uow, customer_id="alice", amount="1.00", currency="INR", reason="x",
                         clock=clock) == MAX_AMOUNT
