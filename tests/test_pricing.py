"""calculate_pricing: explicit edge cases, then invariants for any valid input (Hypothesis)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, Inexact, Rounded, localcontext
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bookcore.errors import CurrencyMismatch, InvalidAmount, InvalidInput
from bookcore.money import MINOR_UNITS, quantum
from bookcore.pricing import Fee, FeeKind, Pricing, calculate_pricing, pricing_from_snapshot
from bookcore.promos import PromoCode, PromoKind, PromoRefusal, PromoUsage
from tests.test_money import rounding_modes

NOW = datetime(2026, 1, 20, 5, 45, 36, tzinfo=UTC)


def price(**overrides: object) -> Pricing:
    arguments: dict[str, object] = {"unit_price": Decimal("1000.00"), "quantity": 1,
                                    "currency": "INR", "now": NOW}
    arguments.update(overrides)
    return calculate_pricing(**arguments)  # type: ignore[arg-type]


def percent_off(percent: str, **fields: Any) -> PromoCode:
    return PromoCode(code="SAVE", kind=PromoKind.PERCENTAGE, value=Decimal(percent), **fields)


def test_wallet_exactly_equal_to_total_needs_no_gateway() -> None:
    pricing = price(wallet_balance=Decimal("1000.00"))
    assert (pricing.wallet_applied, pricing.gateway_payable) == (Decimal("1000.00"), Decimal("0.00"))
    assert pricing.requires_gateway is False


def test_zero_wallet_leaves_everything_to_the_gateway() -> None:
    pricing = price()
    assert pricing.wallet_applied == 0
    assert pricing.gateway_payable == pricing.total_amount == Decimal("1000.00")
    assert pricing.requires_gateway is True


def test_wallet_above_total_is_capped_at_the_total() -> None:
    pricing = price(wallet_balance=Decimal("5000.00"))
    assert pricing.wallet_applied == Decimal("1000.00")
    assert pricing.gateway_payable == 0


def test_partial_wallet_leaves_the_rest_for_the_gateway() -> None:
    pricing = price(wallet_balance=Decimal("250.50"))
    assert pricing.gateway_payable == Decimal("749.50")
    assert pricing.requires_gateway is True


def test_full_order_of_operations() -> None:
    pricing = price(unit_price=Decimal("1500.00"), quantity=2, promo_code="save",
                    promo=percent_off("10"),
                    fees=[Fee(name="convenience", kind=FeeKind.PERCENTAGE, value=Decimal("2")),
                          Fee(name="service", kind=FeeKind.FIXED, value=Decimal("25"), currency="INR")],
                    tax_percent=Decimal("18"), wallet_balance=Decimal("500"))
    assert pricing.subtotal == Decimal("3000.00")
    assert pricing.discount == Decimal("300.00")
    assert [line.amount for line in pricing.fee_lines] == [Decimal("54.00"), Decimal("25.00")]
    assert pricing.fees == Decimal("79.00")
    assert pricing.tax == Decimal("500.22")  # 18% of 2779.00 = 500.22
    assert pricing.total_amount == Decimal("3279.22")
    assert pricing.gateway_payable == Decimal("2779.22")
    assert pricing.promo_code == "SAVE" and pricing.promo_refusal is None


def test_hundred_percent_discount_makes_the_booking_free() -> None:
    pricing = price(promo_code="SAVE", promo=percent_off("100"), wallet_balance=Decimal("10"))
    assert pricing.discount == pricing.subtotal
    assert pricing.total_amount == 0 and pricing.wallet_applied == 0
    assert pricing.requires_gateway is False


def test_fixed_discount_larger_than_subtotal_is_capped_at_subtotal() -> None:
    promo = PromoCode(code="BIG", kind=PromoKind.FIXED, value=Decimal("5000"), currency="INR")
    pricing = price(promo_code="big", promo=promo)
    assert pricing.discount == Decimal("1000.00") and pricing.total_amount == 0


def test_percentage_discount_respects_its_cap() -> None:
    pricing = price(promo_code="SAVE", promo=percent_off("50", max_discount=Decimal("100"),
                                                         currency="INR"))
    assert pricing.discount == Decimal("100.00")


def test_zero_decimal_currency_rounds_half_up_to_whole_units() -> None:
    pricing = price(unit_price=Decimal("333"), quantity=1, currency="JPY", tax_percent=Decimal("10"),
                    promo_code="SAVE", promo=percent_off("15"))
    assert pricing.discount == Decimal("50")  # 49.95 rounds up
    assert pricing.tax == Decimal("28")  # 10% of 283 = 28.3
    assert pricing.total_amount == Decimal("311")
    assert pricing.total_amount.as_tuple().exponent == 0


def test_three_decimal_currency_keeps_three_places() -> None:
    pricing = price(unit_price=Decimal("1.005"), quantity=3, currency="KWD", tax_percent=Decimal("5"))
    assert pricing.subtotal == Decimal("3.015")
    assert pricing.tax == Decimal("0.151")  # 0.15075 rounds half up
    assert pricing.total_amount == Decimal("3.166")


def test_code_expiring_at_exactly_now_is_refused_as_expired() -> None:
    pricing = price(promo_code="SAVE", promo=percent_off("10", valid_until=NOW))
    assert pricing.promo_refusal is PromoRefusal.EXPIRED and pricing.discount == 0
    still_valid = price(promo_code="SAVE", promo=percent_off("10", valid_until=NOW + timedelta(seconds=1)))
    assert still_valid.promo_refusal is None and still_valid.discount == Decimal("100.00")


@pytest.mark.parametrize(("promo", "usage", "reason"), [
    (percent_off("10", valid_from=NOW + timedelta(days=1)), PromoUsage(), PromoRefusal.NOT_YET_VALID),
    (percent_off("10", min_subtotal=Decimal("2000"), currency="INR"), PromoUsage(),
     PromoRefusal.BELOW_MINIMUM_SUBTOTAL),
    (percent_off("10", max_uses=5), PromoUsage(total=5), PromoRefusal.USAGE_LIMIT_REACHED),
    (percent_off("10", max_uses_per_customer=1), PromoUsage(by_customer=1),
     PromoRefusal.CUSTOMER_LIMIT_REACHED),
    (PromoCode(code="SAVE", kind=PromoKind.FIXED, value=Decimal("5"), currency="USD"), PromoUsage(),
     PromoRefusal.CURRENCY_MISMATCH),
])
def test_ineligible_codes_are_reported_with_a_reason(promo: PromoCode, usage: PromoUsage,
                                                     reason: PromoRefusal) -> None:
    pricing = price(promo_code="save", promo=promo, promo_usage=usage)
    assert pricing.promo_refusal is reason
    assert pricing.discount == 0 and pricing.promo_code is None


def test_unknown_code_is_reported_not_ignored() -> None:
    assert price(promo_code="NOPE").promo_refusal is PromoRefusal.UNKNOWN_CODE
    assert price(promo_code="NOPE", promo=percent_off("10")).promo_refusal is PromoRefusal.UNKNOWN_CODE


def test_codes_match_case_insensitively() -> None:
    assert price(promo_code="  sAvE ", promo=percent_off("10")).promo_code == "SAVE"


@pytest.mark.parametrize("overrides", [
    {"unit_price": 10.5}, {"wallet_balance": 1.0}, {"tax_percent": 18.0}, {"unit_price": "-1"},
    {"quantity": 0}, {"quantity": -2}, {"quantity": True}, {"quantity": 1.0}, {"currency": "ABC"},
    {"now": datetime(2026, 1, 1)}, {"unit_price": Decimal("1.001")}, {"tax_percent": "101"},
])
def test_bad_input_raises_a_typed_error(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        price(**overrides)


def test_fixed_fee_in_another_currency_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        price(fees=[Fee(name="x", kind=FeeKind.FIXED, value=Decimal("1"), currency="USD")])


def test_promo_definitions_refuse_floats_and_nonsense() -> None:
    with pytest.raises(InvalidAmount):
        PromoCode(code="X", kind=PromoKind.PERCENTAGE, value=10.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        PromoCode(code="X", kind=PromoKind.FIXED, value=Decimal("10"))
    with pytest.raises(InvalidInput):
        PromoCode(code="X", kind=PromoKind.PERCENTAGE, value=Decimal("120"))
    with pytest.raises(InvalidInput):
        PromoCode(code=" ", kind=PromoKind.PERCENTAGE, value=Decimal("1"))


def test_pricing_is_immutable_and_round_trips_through_json() -> None:
    pricing = price(promo_code="SAVE", promo=percent_off("10"), wallet_balance=Decimal("1"))
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own frozen error
        pricing.total_amount = Decimal(0)  # type: ignore[misc]
    assert Pricing.model_validate_json(pricing.model_dump_json()) == pricing


# ---- invariants -------------------------------------------------------------------------------

currencies = st.sampled_from(["INR", "EUR", "USD", "JPY", "KWD", "BHD"])


@st.composite
def quotes(draw: st.DrawFn) -> dict[str, object]:
    currency = draw(currencies)
    places = MINOR_UNITS[currency]

    def amount(max_units: int) -> Decimal:
        return Decimal(draw(st.integers(0, max_units * 10**places))).scaleb(-places)

    promo = draw(st.one_of(
        st.none(),
        st.builds(lambda pct, cap: PromoCode(
            code="P", kind=PromoKind.PERCENTAGE, value=pct, max_discount=cap,
            currency=None if cap is None else currency),
                  st.decimals(0, 100, places=2), st.none() | st.just(amount(5000))),
        st.just(PromoCode(code="P", kind=PromoKind.FIXED, value=max(amount(20_000), quantum(currency)),
                          currency=currency)),
    ))
    fees = draw(st.lists(st.one_of(
        st.builds(lambda pct: Fee(name="pct", kind=FeeKind.PERCENTAGE, value=pct),
                  st.decimals(0, 30, places=3)),
        st.just(Fee(name="flat", kind=FeeKind.FIXED, value=amount(100), currency=currency)),
    ), max_size=3))
    return {
        "unit_price": amount(100_000), "quantity": draw(st.integers(1, 50)), "currency": currency,
        "now": NOW, "promo_code": "p" if promo else draw(st.none() | st.just("unknown")),
        "promo": promo, "fees": fees, "tax_percent": draw(st.decimals(0, 40, places=2)),
        "wallet_balance": amount(500_000),
    }


@given(quotes())
def test_amounts_always_add_up_and_stay_in_bounds(quote: dict[str, object]) -> None:
    pricing = calculate_pricing(**quote)  # type: ignore[arg-type]
    balance = quote["wallet_balance"]
    assert isinstance(balance, Decimal)
    assert 0 <= pricing.wallet_applied <= min(balance, pricing.total_amount)
    assert pricing.wallet_applied == min(balance, pricing.total_amount)
    assert pricing.wallet_applied + pricing.gateway_payable == pricing.total_amount
    assert pricing.gateway_payable >= 0 and pricing.total_amount >= 0
    assert 0 <= pricing.discount <= pricing.subtotal
    assert pricing.total_amount == pricing.subtotal - pricing.discount + pricing.fees + pricing.tax
    assert pricing.fees == sum((line.amount for line in pricing.fee_lines), Decimal(0))
    assert pricing.requires_gateway == (pricing.gateway_payable > 0)
    exponent = quantum(pricing.currency).as_tuple().exponent
    for amount in (pricing.subtotal, pricing.discount, pricing.fees, pricing.tax,
                   pricing.total_amount, pricing.wallet_applied, pricing.gateway_payable):
        assert amount.as_tuple().exponent == exponent


@given(quotes(), st.integers(0, 10**9))
def test_more_wallet_never_raises_gateway_payable(quote: dict[str, object], extra_units: int) -> None:
    before = calculate_pricing(**quote)  # type: ignore[arg-type]
    balance = quote["wallet_balance"]
    assert isinstance(balance, Decimal)
    richer = dict(quote, wallet_balance=balance + quantum(before.currency) * extra_units)
    after = calculate_pricing(**richer)  # type: ignore[arg-type]
    assert after.gateway_payable <= before.gateway_payable
    assert after.total_amount == before.total_amount


@given(quotes())
def test_same_inputs_always_give_the_same_pricing(quote: dict[str, object]) -> None:
    assert calculate_pricing(**quote) == calculate_pricing(**quote)  # type: ignore[arg-type]


def _exact(pricing: Pricing) -> dict[str, str]:
    """Every field as text: Decimal equality ignores the exponent ("1.00" == "1"), text does not.
    (Times as ISO text: pydantic's parser gives its own UTC tzinfo class, with the same offset.)"""
    return {name: value.isoformat() if isinstance(value, datetime) else repr(value)
            for name, value in ((name, getattr(pricing, name)) for name in Pricing.model_fields)}


@given(quotes())
def test_a_stored_snapshot_reads_back_exactly(quote: dict[str, object]) -> None:
    pricing = calculate_pricing(**quote)  # type: ignore[arg-type]
    stored = pricing.model_dump_json()
    read = pricing_from_snapshot(stored)
    assert read == pricing == Pricing.model_validate_json(stored)
    assert _exact(read) == _exact(pricing)
    assert read.priced_at.utcoffset() is not None and read.requires_gateway == pricing.requires_gateway
    assert all(type(line.amount) is Decimal for line in read.fee_lines)


snapshot_damage = st.one_of(
    st.just(None), st.just(1.5), st.just(True), st.just(7), st.just("nan"), st.just("Infinity"),
    st.just("abc"), st.just(""), st.just([]), st.just({}), st.just([["fee"]]), st.just([[1, "2.00"]]),
    st.just([["fee", 2.5]]), st.just("2026-01-20T05:45:36"), st.just("2026-01-20T05:45:36+05:30"),
    st.just("not_a_reason"), st.just("minimum_not_met"), st.just("12.50"),
)


@given(quotes(), st.sampled_from([*Pricing.model_fields, "requires_gateway", "extra"]), snapshot_damage,
       st.booleans())
def test_a_damaged_snapshot_reads_back_valid_or_raises_invalid_input(
        quote: dict[str, object], field: str, value: object, drop: bool) -> None:
    document = json.loads(calculate_pricing(**quote).model_dump_json())  # type: ignore[arg-type]
    if drop:
        document.pop(field, None)
    else:
        document[field] = value
    try:
        read = pricing_from_snapshot(json.dumps(document))
    except InvalidInput:
        return
    assert read.priced_at.utcoffset() is not None
    assert all(amount.is_finite() for amount in (read.total_amount, read.gateway_payable, read.tax))


@given(quotes(), rounding_modes, st.integers(1, 28))
def test_a_callers_decimal_context_cannot_change_a_quote(quote: dict[str, object], rounding: str,
                                                         precision: int) -> None:
    """A quote is computed in bookcore's own context: a caller with fewer digits, another rounding
    mode, trapping any rounding, gets the very same quote, and no trap; under ROUND_FLOOR a zero
    difference (a fully discounted or wallet-paid quote) is still 0.00."""
    expected = _exact(calculate_pricing(**quote))  # type: ignore[arg-type]
    with localcontext(Context(prec=precision, rounding=rounding, traps=[Inexact, Rounded])):
        pricing = calculate_pricing(**quote)  # type: ignore[arg-type]
    assert _exact(pricing) == expected
