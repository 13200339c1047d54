"""Gateway refunds owed: listed for ops, each naming the payment and capture it reverses, and
marked executed once, with the gateway's reference."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from bookcore.auditing import audit
from bookcore.clock import ManualClock
from bookcore.errors import IdempotencyConflict, InvalidInput, RefundNotFound
from bookcore.model import PaymentOutcome, RefundMode
from bookcore.ports import UnitOfWork
from bookcore.refunds import mark_gateway_refund_executed, refunds_owed
from tests.conftest import START
from tests.world import World


@pytest.fixture
def world(uow: UnitOfWork, clock: ManualClock) -> World:
    w = World(uow, clock)
    w.item(capacity=5, price="1000.00")
    return w


def test_a_cancellations_gateway_refund_names_the_payment_and_capture_it_reverses(
        world: World, uow: UnitOfWork) -> None:
    world.fund("alice", "300.00")
    booking = world.hold("alice")
    paid = world.pay(booking, key="ch_1", gateway_reference="ch_1")
    refund = world.cancel(booking, refund_mode=RefundMode.ORIGINAL).refund
    assert refund is not None
    assert (refund.payment_id, refund.charge_reference) == (paid.payment.id, "ch_1")
    assert (refund.to_wallet, refund.to_gateway) == (Decimal("300.00"), Decimal("700.00"))
    assert refunds_owed(uow) == (refund,)
    replay = world.pay(booking, key="ch_1", gateway_reference="ch_1")
    assert replay.replayed and replay.refund is None  # the payment's own result, as first given


def test_only_money_still_owed_through_the_gateway_is_listed_oldest_first(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    to_wallet = world.hold("alice")
    world.pay(to_wallet, key="a", gateway=Decimal("5.00"))
    first = world.hold("bob")
    first_refund = world.pay(first, key="b", gateway=Decimal("5.00"),
                             unplaced_money_to=RefundMode.ORIGINAL).refund
    clock.advance(timedelta(seconds=1))
    second = world.hold("carol")
    world.pay(second, key="c")
    second_refund = world.cancel(second, refund_mode=RefundMode.ORIGINAL).refund
    assert refunds_owed(uow) == (first_refund, second_refund)


def test_marking_a_gateway_refund_executed_is_idempotent(
        world: World, uow: UnitOfWork, clock: ManualClock,
        caplog: pytest.LogCaptureFixture) -> None:
    booking = world.hold("alice")
    result = world.pay(booking, gateway=Decimal("999.00"), gateway_reference="ch_9",
                       unplaced_money_to=RefundMode.ORIGINAL)
    assert result.outcome is PaymentOutcome.GATEWAY_REFUND_REQUIRED and result.refund is not None
    clock.advance(timedelta(hours=1))
    with caplog.at_level(logging.INFO, logger="bookcore"):
        done = mark_gateway_refund_executed(uow, refund_id=result.refund.id,
                                            gateway_reference="re_9", clock=clock)
        again = mark_gateway_refund_executed(uow, refund_id=result.refund.id,
                                             gateway_reference="re_9", clock=clock)
    assert (done.executed_at, done.refund_reference) == (clock.now(), "re_9")
    assert done.charge_reference == "ch_9" and again == done
    assert [getattr(r, "bookcore_event", None) for r in caplog.records] == ["GATEWAY_REFUND_EXECUTED"]
    assert refunds_owed(uow) == ()
    with uow:
        assert uow.refunds.get(result.refund.id) == done
    with pytest.raises(IdempotencyConflict) as conflict:
        mark_gateway_refund_executed(uow, refund_id=result.refund.id, gateway_reference="re_other",
                                     clock=clock)
    assert conflict.value.details["recorded"] == "re_9"
    assert conflict.value.field == "gateway_reference"


def test_unknown_refunds_and_refunds_with_nothing_for_the_gateway_are_not_found(
        world: World, uow: UnitOfWork, clock: ManualClock) -> None:
    booking = world.hold("alice")
    wallet_refund = world.pay(booking, gateway=Decimal("1.00")).refund
    assert wallet_refund is not None and wallet_refund.to_gateway == 0
    for refund_id in ("nope", wallet_refund.id):
        with pytest.raises(RefundNotFound) as missing:
            mark_gateway_refund_executed(uow, refund_id=refund_id, gateway_reference="re_1",
                                         clock=clock)
        assert missing.value.to_dict()["field"] == "refund_id"
    with pytest.raises(InvalidInput):
        mark_gateway_refund_executed(uow, refund_id="nope", gateway_reference=" ", clock=clock)


def test_audit_flags_gateway_money_that_nothing_accounts_for(engine: Engine) -> None:
    from bookcore.adapters.sqlalchemy import SqlAlchemyUnitOfWork
    from bookcore.adapters.sqlalchemy.tables import refunds

    clock = ManualClock(START)
    world = World(SqlAlchemyUnitOfWork(engine), clock)
    world.item()
    world.pay(world.hold("alice"), gateway=Decimal("7.00"), unplaced_money_to=RefundMode.ORIGINAL)
    assert audit(world.uow, clock=clock).ok
    with engine.begin() as connection:
        connection.execute(delete(refunds))
    report = audit(world.uow, clock=clock)
    assert [(v.rule, v.subject) for v in report.violations] == [("gateway_money_placed", "INR")]
    assert "captured 7.00 != confirmed 0.00 + credited 0.00 + owed 0.00" in report.violations[0].detail
