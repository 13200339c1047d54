"""Hypothesis strategies for bookcore's values, in any currency it knows."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from bookcore.money import MAX_AMOUNT, MINOR_UNITS, MONEY_CONTEXT, parse_amount, parse_percent, quantum
from bookcore.pricing import Charges, Fee, FeeKind
from bookcore.promos import PromoCode, PromoKind

CODE_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def amounts(currency: str = "INR", *, min_value: object = 0,
            max_value: object = MAX_AMOUNT) -> st.SearchStrategy[Decimal]:
    """Amounts bookcore accepts in ``currency``, quantized to its minor unit; shrinks towards
    ``min_value``."""
    low = parse_amount(min_value, currency, field="min_value")
    high = parse_amount(max_value, currency, field="max_value")
    places = MINOR_UNITS[currency]
    return st.integers(int(low.scaleb(places)), int(high.scaleb(places))).map(
        lambda units: parse_amount(Decimal(units).scaleb(-places, MONEY_CONTEXT), currency))


def percents(*, max_value: object = 100, places: int = 2) -> st.SearchStrategy[Decimal]:
    """Percentages from 0 to ``max_value`` with up to ``places`` decimal places."""
    high = parse_percent(max_value, field="max_value")
    return st.integers(0, int(high.scaleb(places))).map(
        lambda units: Decimal(units).scaleb(-places, MONEY_CONTEXT))


@st.composite
def promo_codes(draw: st.DrawFn, currency: str = "INR", *,
                codes: st.SearchStrategy[str] | None = None) -> PromoCode:
    """Promo codes valid in ``currency``: percentage (with an optional cap) or fixed, with optional
    minimum subtotal and usage limits, valid at any time."""
    code = draw(codes if codes is not None else st.text(CODE_CHARACTERS, min_size=1, max_size=12))
    percentage = draw(st.booleans())
    value = draw(percents() if percentage
                 else amounts(currency, min_value=quantum(currency), max_value=20_000))
    return PromoCode(
        code=code, kind=PromoKind.PERCENTAGE if percentage else PromoKind.FIXED, value=value,
        currency=currency,
        max_discount=draw(st.none() | amounts(currency, max_value=5_000)) if percentage else None,
        min_subtotal=draw(st.none() | amounts(currency, max_value=5_000)),
        max_uses=draw(st.none() | st.integers(1, 5)),
        max_uses_per_customer=draw(st.none() | st.integers(1, 3)))


@st.composite
def charges(draw: st.DrawFn, currency: str = "INR", *, max_fees: int = 3) -> Charges:
    """Fees (percentage or fixed, in ``currency``) and a tax rate, as an app would configure them."""
    fees = []
    for number in range(draw(st.integers(0, max_fees))):
        name = f"fee {number + 1}"
        if draw(st.booleans()):
            fees.append(Fee(name=name, kind=FeeKind.PERCENTAGE, value=draw(percents(max_value=30, places=3))))
        else:
            fees.append(Fee(name=name, kind=FeeKind.FIXED, value=draw(amounts(currency, max_value=100)),
                            currency=currency))
    return Charges(fees=tuple(fees), tax_percent=draw(percents(max_value=40)))
