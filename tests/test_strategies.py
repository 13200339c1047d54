"""bookcore.testing's strategies draw only values bookcore accepts, in the currency asked for."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bookcore.money import MINOR_UNITS, parse_amount, parse_percent
from bookcore.pricing import Charges, FeeKind
from bookcore.promos import PromoCode
from bookcore.testing import amounts, charges, percents, promo_codes

currencies = st.sampled_from(sorted(MINOR_UNITS))


@given(st.data(), currencies)
def test_amounts_are_quantized_to_the_currency_and_within_bounds(data: st.DataObject, currency: str) -> None:
    amount = data.draw(amounts(currency, min_value=5, max_value=1_000))
    assert parse_amount(amount, currency) == amount
    assert amount.as_tuple().exponent == -MINOR_UNITS[currency]
    assert 5 <= amount <= 1_000


@given(percents(max_value=30, places=3))
def test_percents_are_valid_percentages(percent: Decimal) -> None:
    assert parse_percent(percent) == percent <= 30 and percent == round(percent, 3)


@given(st.data(), currencies)
def test_promo_codes_and_charges_are_in_the_currency_asked_for(data: st.DataObject, currency: str) -> None:
    promo = data.draw(promo_codes(currency))
    assert isinstance(promo, PromoCode) and promo.currency == currency
    drawn = data.draw(charges(currency))
    assert isinstance(drawn, Charges) and len(drawn.fees) <= 3
    assert all(fee.currency == currency for fee in drawn.fees if fee.kind is FeeKind.FIXED)
