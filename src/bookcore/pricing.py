"""The single source of every amount bookcore shows or charges. Pure: no I/O, no clock of its own.

Order of operations (docs/pricing.md): subtotal, promo discount, fees on the discounted amount,
tax on discounted amount plus fees, total, then the wallet applied up to the total. Each line is
rounded half up to the currency's minor unit as it is computed, so the lines always add up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import AwareDatetime, computed_field, model_validator

from bookcore.clock import ensure_utc
from bookcore.errors import InvalidAmount, InvalidInput
from bookcore.money import (
    HUNDRED,
    MAX_AMOUNT,
    MONEY_CONTEXT,
    ZERO,
    ZEROS,
    StrictDecimal,
    in_money_context,
    parse_amount,
    parse_percent,
    quantum,
    round_half_up,
    same_currency,
)
from bookcore.promos import (
    NO_USAGE,
    PromoCode,
    PromoRefusal,
    PromoUsage,
    discount_for,
    normalize_code,
    refusal_for,
)
from bookcore.values import FrozenModel, InputModel

MAX_QUANTITY = 10_000

# A difference that comes out zero is -0 under a ROUND_FLOOR context, and would print as "-0.00";
# in bookcore's own context it is 0.
_difference = MONEY_CONTEXT.subtract


class FeeKind(StrEnum):
    FIXED = "fixed"
    PERCENTAGE = "percentage"


# A module constant, not FeeKind.PERCENTAGE at the call: on Python 3.11 reading a member from its
# enum class costs 180 ns, a fifth of a fee line.
_PERCENTAGE_FEE = FeeKind.PERCENTAGE


class Fee(InputModel):
    """A charge on top of the discounted subtotal, e.g. a convenience fee.

    ``value`` is an amount in ``currency`` for FIXED fees, a percent for PERCENTAGE fees.
    """

    name: str
    kind: FeeKind
    value: StrictDecimal
    currency: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Fee:
        if self.kind is FeeKind.PERCENTAGE:
            parse_percent(self.value, field=f"fee {self.name}")
        elif self.currency is None:
            raise ValueError("a fixed fee needs a currency")
        else:
            parse_amount(self.value, self.currency, field=f"fee {self.name}")
        return self


class Charges(InputModel):
    """The fees and tax an app adds to every booking it prices."""

    fees: tuple[Fee, ...] = ()
    tax_percent: StrictDecimal = ZERO


NO_CHARGES = Charges()


class FeeLine(NamedTuple):
    name: str
    amount: Decimal


_new_tuple = tuple.__new__


def _fee_line(name: str, amount: Decimal) -> FeeLine:
    # What FeeLine(name, amount) builds, without the generated Python __new__: a third of the cost.
    return _new_tuple(FeeLine, (name, amount))


class Pricing(FrozenModel):
    """Every amount of one booking, all in ``currency`` and quantized to its minor unit."""

    currency: str
    unit_price: StrictDecimal
    quantity: int
    subtotal: StrictDecimal
    discount: StrictDecimal
    fee_lines: tuple[FeeLine, ...]
    fees: StrictDecimal
    tax_percent: StrictDecimal
    tax: StrictDecimal
    total_amount: StrictDecimal
    wallet_applied: StrictDecimal
    gateway_payable: StrictDecimal
    promo_code: str | None
    promo_refusal: PromoRefusal | None
    priced_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        # requires_gateway is serialised for the UI but always re-derived, never trusted on input.
        if isinstance(data, dict):
            data = {key: value for key, value in data.items() if key != "requires_gateway"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def requires_gateway(self) -> bool:
        """Show gateway payment options exactly when something is left after the wallet."""
        return self.gateway_payable > 0


_AMOUNT_FIELDS = ("unit_price", "subtotal", "discount", "fees", "tax_percent", "tax", "total_amount",
                  "wallet_applied", "gateway_payable")
_SNAPSHOT_KEYS = frozenset(Pricing.model_fields) | {"requires_gateway"}


def pricing_from_snapshot(text: str | bytes) -> Pricing:
    """Read back a pricing stored as ``model_dump_json()`` (a booking's snapshot).

    What bookcore wrote is rebuilt directly, checked for exactly the types validation would
    accept: the full validator costs ten times as much and runs on every payment and
    cancellation. Anything else (an edited row, another layout) goes through full validation
    and fails, if it does, with its ``InvalidInput``.
    """
    try:
        return _rebuild_snapshot(json.loads(text))
    except (ValueError, TypeError, ArithmeticError):
        return Pricing.model_validate_json(text)


def _rebuild_snapshot(data: Any) -> Pricing:
    if type(data) is not dict or data.keys() != _SNAPSHOT_KEYS:
        raise ValueError("not a snapshot's layout")
    del data["requires_gateway"]  # derived, never stored as truth
    for name in _AMOUNT_FIELDS:
        data[name] = _stored_amount(data[name])
    if type(data["currency"]) is not str or type(data["quantity"]) is not int:
        raise TypeError("not a snapshot's types")
    if type(data["fee_lines"]) is not list:
        raise TypeError("fee_lines is not a list")
    lines = []
    for name, amount in data["fee_lines"]:  # a line that is not a pair raises here
        if type(name) is not str:
            raise TypeError("a fee line's name is not a string")
        lines.append(_fee_line(name, _stored_amount(amount)))
    data["fee_lines"] = tuple(lines)
    if data["promo_code"] is not None and type(data["promo_code"]) is not str:
        raise TypeError("promo_code is not a string")
    if data["promo_refusal"] is not None:
        data["promo_refusal"] = PromoRefusal(data["promo_refusal"])
    priced_at = data["priced_at"] = datetime.fromisoformat(data["priced_at"])
    if priced_at.utcoffset() is None:
        raise ValueError("a naive priced_at")
    return Pricing.trusted_dict(data)


def _stored_amount(text: object) -> Decimal:
    if type(text) is not str:
        raise TypeError("amounts are stored as strings")
    number = Decimal(text)
    if not number.is_finite():
        raise ValueError("a non-finite amount")
    return number


def check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("quantity must be an int", value=quantity)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity must be between 1 and {MAX_QUANTITY}", value=quantity)
    return quantity


def _fee_lines(fees: Sequence[Fee], base: Decimal, currency: str,
               step: Decimal) -> tuple[tuple[FeeLine, ...], Decimal]:
    """Each fee on ``base``, rounded on its own line, and their sum."""
    lines, total = [], ZERO
    for fee in fees:
        # A Fee checked its value when it was built; only the currency depends on this quote.
        if fee.kind is _PERCENTAGE_FEE:
            amount = round_half_up(base * fee.value / HUNDRED, step)
        else:
            if fee.currency != currency:
                same_currency(currency, fee.currency or "", what=f"fee {fee.name}")
            amount = round_half_up(fee.value, step)
        lines.append(_fee_line(fee.name, amount))
        total += amount
    return tuple(lines), total  # at least one line, so total has the currency exponent


@in_money_context
def calculate_pricing(
    *,
    unit_price: object,
    quantity: int,
    currency: str,
    now: datetime,
    promo_code: str | None = None,
    promo: PromoCode | None = None,
    promo_usage: PromoUsage = NO_USAGE,
    fees: Sequence[Fee] = (),
    tax_percent: object = ZERO,
    wallet_balance: object = ZERO,
) -> Pricing:
    """Price a booking.

    ``promo_code`` is what the customer typed; ``promo`` the definition the caller found for it
    (None when there is none) and ``promo_usage`` how often it is already taken. An entered code
    that does not apply is reported in ``promo_refusal`` and gives no discount.
    """
    step = quantum(currency)
    zero = ZEROS[currency]  # known: quantum() refused any other code
    # The type checks inline the common case: a quote is priced many thousand times a second.
    if type(now) is not datetime or now.tzinfo is not UTC:
        now = ensure_utc(now)
    price = parse_amount(unit_price, currency, field="unit_price")
    count = check_quantity(quantity)
    tax_rate = parse_percent(tax_percent, field="tax_percent")
    balance = parse_amount(wallet_balance, currency, field="wallet_balance")

    subtotal = price * count  # exact: a quantized price times an int keeps its exponent
    if subtotal > MAX_AMOUNT:
        raise InvalidAmount("subtotal exceeds the largest supported amount", subtotal=subtotal)
    discount, applied_code, refusal = zero, None, None
    if promo_code is not None:
        if promo is None or promo.code != normalize_code(promo_code):
            refusal = PromoRefusal.UNKNOWN_CODE
        else:
            refusal = refusal_for(promo, subtotal=subtotal, currency=currency, now=now,
                                  usage=promo_usage)
            if refusal is None:
                discount = discount_for(promo, subtotal=subtotal, step=step)
                applied_code = promo.code

    net = _difference(subtotal, discount)
    fee_lines, fee_total = _fee_lines(fees, net, currency, step) if fees else ((), zero)
    tax = round_half_up((net + fee_total) * tax_rate / HUNDRED, step)
    total = net + fee_total + tax
    # Not min(): its call costs four times the comparison. Ties keep the balance, as min() did.
    wallet_applied = total if total < balance else balance

    return Pricing.trusted_dict({
        "currency": currency,
        "unit_price": price,
        "quantity": count,
        "subtotal": subtotal,
        "discount": discount,
        "fee_lines": fee_lines,
        "fees": fee_total,
        "tax_percent": tax_rate,
        "tax": tax,
        "total_amount": total,
        "wallet_applied": wallet_applied,
        "gateway_payable": _difference(total, wallet_applied),
        "promo_code": applied_code,
        "promo_refusal": refusal,
        "priced_at": now,
    })
