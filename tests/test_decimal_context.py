"""A caller's decimal context cannot change an amount: bookcore computes, stores and reads money in
its own (``MONEY_CONTEXT``), on every storage backend."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_FLOOR, Context, Decimal, Inexact, Rounded, localcontext

import pytest

from bookcore.cancellation import cancel_booking
from bookcore.catalog import add_inventory_item
from bookcore.clock import ManualClock
from bookcore.holds import place_hold
from bookcore.lookups import booking_details
from bookcore.model import Actor
from bookcore.payments import finalize_payment
from bookcore.ports import UnitOfWork
from bookcore.pricing import Charges, Fee, FeeKind, calculate_pricing
from bookcore.promos import PromoCode, PromoKind
from bookcore.wallet import credit_wallet, wallet_balance

CHARGES = Charges(fees=(Fee(name="service", kind=FeeKind.PERCENTAGE, value=Decimal("2.5")),
                        Fee(name="booking", kind=FeeKind.FIXED, value=Decimal("99.99"), currency="INR")),
                  tax_percent=Decimal("18"))
PROMO = PromoCode(code="SAVE", kind=PromoKind.PERCENTAGE, value=Decimal("12.5"))

CALLER_CONTEXTS = {
    "four digits": Context(prec=4),
    "traps off, rounding down to the floor": Context(prec=6, rounding=ROUND_FLOOR, traps=[]),
    "any rounding trapped": Context(prec=28, rounding=ROUND_DOWN, traps=[Inexact, Rounded]),
}


def every_amount(uow: UnitOfWork, clock: ManualClock, tag: str) -> dict[str, str]:
    """A top-up, a quote, a hold, a payment split between wallet and gateway, and a refund."""
    item, customer = f"room-{tag}", f"alice-{tag}"
    add_inventory_item(uow, item_id=item, name=item, capacity=3, unit_price=Decimal("1234.56"),
                       currency="INR")
    seen: dict[str, object] = {}
    for top_up, amount in (("first top-up", "1234.56"), ("second top-up", "0.01")):
        seen[top_up] = credit_wallet(uow, customer_id=customer, amount=amount, currency="INR",
                                     reason="top-up", clock=clock)
    seen["quote"] = calculate_pricing(unit_price="1234.56", quantity=3, currency="INR", now=clock.now(),
                                      promo_code="save", promo=PROMO, fees=CHARGES.fees,
                                      tax_percent=CHARGES.tax_percent, wallet_balance="1234.57")
    hold = place_hold(uow, item_id=item, customer_id=customer, quantity=3, clock=clock,
                      charges=CHARGES).booking
    seen["hold"] = hold.pricing
    payment = finalize_payment(uow, booking_id=hold.id, idempotency_key=f"pay-{tag}",
                               gateway_amount=hold.pricing.gateway_payable, currency="INR", clock=clock)
    assert payment.payment is not None
    seen["payment"] = (payment.payment.wallet_amount, payment.payment.gateway_amount)
    seen["balance after paying"] = wallet_balance(uow, customer_id=customer, currency="INR")
    seen["stored pricing"] = booking_details(uow, booking_id=hold.id, clock=clock).booking.pricing
    refund = cancel_booking(uow, booking_id=hold.id, actor=Actor.customer(customer), clock=clock).refund
    assert refund is not None
    seen["refund"] = (refund.to_wallet, refund.to_gateway)
    seen["balance after the refund"] = wallet_balance(uow, customer_id=customer, currency="INR")
    return {what: repr(value) for what, value in seen.items()}


@pytest.mark.parametrize("context", CALLER_CONTEXTS.values(), ids=CALLER_CONTEXTS.keys())
def test_a_callers_decimal_context_changes_no_amount(uow: UnitOfWork, clock: ManualClock,
                                                     context: Context) -> None:
    expected = every_amount(uow, clock, "default")
    assert expected["second top-up"] == repr(Decimal("1234.57"))
    # 3703.68 + 2.5% (92.59) + 99.99, then 18% tax (701.33); the wallet pays 1234.57 of it.
    assert "total_amount=Decimal('4597.59')" in expected["hold"]
    assert expected["payment"] == repr((Decimal("1234.57"), Decimal("3363.02")))
    assert expected["balance after the refund"] == repr(Decimal("4597.59"))
    with localcontext(context):
        seen = every_amount(uow, clock, "caller")
    assert seen == expected
