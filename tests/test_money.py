from __future__ import annotations

from datetime import UTC, datetime
from decimal import (
    ROUND_05UP,
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    Inexact,
    Rounded,
    localcontext,
)

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookcore.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency
from bookcore.money import MAX_AMOUNT, MINOR_UNITS, parse_amount, quantize, quantum, same_currency
from bookcore.pricing import calculate_pricing

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("currency", "raw", "expected"), [
    ("INR", "10", Decimal("10.00")),
    ("EUR", Decimal("19.99"), Decimal("19.99")),
    ("JPY", 1500, Decimal("1500")),
    ("KWD", "1.234", Decimal("1.234")),
    ("BHD", "0", Decimal("0.000")),
])
def test_amounts_are_quantized_to_the_currency_minor_unit(currency: str, raw: object,
                                                           expected: Decimal) -> None:
    amount = parse_amount(raw, currency)
    assert amount == expected
    assert amount.as_tuple().exponent == expected.as_tuple().exponent


@pytest.mark.parametrize("raw", ["-0", "-0.00", Decimal("-0"), Decimal("-0E+3")])
def test_negative_zero_is_zero_and_prints_without_a_sign(raw: object) -> None:
    amount = parse_amount(raw, "INR")
    assert str(amount) == "0.00" and not amount.is_signed()
    assert str(calculate_pricing(unit_price=raw, quantity=2, currency="INR", now=NOW,
                                 tax_percent=raw, wallet_balance=raw).total_amount) == "0.00"


@pytest.mark.parametrize("raw", [19.99, 1.0, True, float("nan"), Decimal("NaN"), Decimal("Infinity"),
                                 "-Infinity", "abc", None, [1], "-0.01", Decimal("-5")])
def test_floats_non_finite_garbage_and_negatives_are_refused(raw: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(raw, "EUR")


@pytest.mark.parametrize(("currency", "raw"), [("EUR", "1.001"), ("JPY", "1.5"), ("KWD", "0.0001")])
def test_more_places_than_the_currency_has_are_refused_not_rounded(currency: str, raw: str) -> None:
    with pytest.raises(InvalidAmount, match="decimal places"):
        parse_amount(raw, currency)


def test_amounts_beyond_the_maximum_are_refused() -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(MAX_AMOUNT + 1, "EUR")
    with pytest.raises(InvalidAmount):
        parse_amount(2**63, "EUR")


@pytest.mark.parametrize("currency", ["XXX", "eur", "", None, 978])
def test_unknown_currency_codes_are_refused(currency: object) -> None:
    with pytest.raises(UnknownCurrency):
        parse_amount("1", currency)  # type: ignore[arg-type]


def test_rounding_is_half_up_not_bankers() -> None:
    assert quantize(Decimal("2.5"), "JPY") == Decimal("3")
    assert quantize(Decimal("0.125"), "EUR") == Decimal("0.13")
    assert quantize(Decimal("0.0005"), "KWD") == Decimal("0.001")


rounding_modes = st.sampled_from([ROUND_05UP, ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_DOWN,
                                  ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP])


@given(st.decimals(0, MAX_AMOUNT, places=6), st.sampled_from(sorted(MINOR_UNITS)), st.integers(1, 28),
       rounding_modes)
def test_rounding_ignores_the_callers_decimal_context(amount: Decimal, currency: str, precision: int,
                                                      rounding: str) -> None:
    expected = amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)  # the default context
    # Fewer digits than the amount has, another rounding mode, and a trap on any rounding at all.
    with localcontext(Context(prec=precision, rounding=rounding, traps=[Inexact, Rounded])):
        rounded = quantize(amount, currency)
    assert repr(rounded) == repr(expected)


def test_mixing_currencies_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        same_currency("EUR", "USD", what="fee")
