"""The single source of every amount bookcore shows or charges. Pure: no I/O, no clock of its own.

Order of operations (docs/pricing.md): subtotal, promo discount, fees on the discounted amount,
tax on discounted amount plus fees, total, then the wallet applied up to the total. Each line is
rounded half up to the currency's minor unit as it is computed, so the lines always add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import AwareDatetime, computed_field, field_validator, model_validator

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
from bookcore.values import FrozenModel, InputModel, check_text

MAX_QUANTITY = 10_000

# A difference that comes out zero is -0 under a ROUND_FLOOR context, and would print as "-0.00";
# in bookcore's own context it is 0.
_difference = MONEY_CONTEXT.subtract


class FeeKind(StrEnum):
    FIXED = "fixed"
    PERCENTAGE = "percentage"


class Fee(InputModel):
    """A charge on top of the discounted subtotal, e.g. a convenience fee.

    ``value`` is an amount in ``currency`` for FIXED fees, a percent for PERCENTAGE fees.
    """

    name: str
    kind: FeeKind
    value: StrictDecimal
    currency: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        return check_text(name, field="name")

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

    @field_validator("tax_percent")
    @classmethod
    def _tax_percent(cls, percent: Decimal) -> Decimal:
        return parse_percent(percent, field="tax_percent")


NO_CHARGES = Charges()


class FeeLine(NamedTuple):
    name: str
    amount: Decimal


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


def pricing_from_snapshot(text: str | bytes) -> Pricing:
    """Read back a pricing stored as ``model_dump_json()`` (a booking's snapshot); a damaged one
    raises ``InvalidInput``."""
    return Pricing.model_validate_json(text)


def check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("quantity must be an int", field="quantity", value=quantity)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity must be between 1 and {MAX_QUANTITY}", field="quantity",
                           value=quantity)
    return quantity


def check_fees(fees: object) -> Sequence[Fee]:
    """A tuple or list of ``Fee``."""
    if not isinstance(fees, tuple | list):
        raise InvalidInput("fees must be a tuple or list of Fee", field="fees", value=fees)
    for fee in fees:
        if not isinstance(fee, Fee):
            raise InvalidInput("fees must be a tuple or list of Fee", field="fees", value=fee)
    return fees


def check_charges(charges: object) -> Charges:
    if not isinstance(charges, Charges):
        raise InvalidInput("charges must be a Charges", field="charges", value=charges)
    return charges


def check_promo_request(promo_code: object, promo: object, promo_usage: object) -> None:
    """What the customer typed (text or None), the definition found for it and its usage."""
    if promo_code is not None:
        check_text(promo_code, field="promo_code")
    if promo is not None and not isinstance(promo, PromoCode):
        raise InvalidInput("promo must be a PromoCode or None", field="promo", value=promo)
    if not isinstance(promo_usage, PromoUsage):
        raise InvalidInput("promo_usage must be a PromoUsage", field="promo_usage", value=promo_usage)


def _fee_lines(fees: Sequence[Fee], base: Decimal, currency: str,
               step: Decimal) -> tuple[tuple[FeeLine, ...], Decimal]:
    """Each fee on ``base``, rounded on its own line, and their sum."""
    lines, total = [], ZERO
    for fee in fees:
        # A Fee checked its value when it was built; only the currency depends on this quote.
        if fee.kind is FeeKind.PERCENTAGE:
            amount = round_half_up(base * fee.value / HUNDRED, step)
        else:
            if fee.currency != currency:
                same_currency(currency, fee.currency or "", what=f"fee {fee.name}", field="fees")
            amount = round_half_up(fee.value, step)
        lines.append(FeeLine(fee.name, amount))
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
    now = ensure_utc(now)
    check_promo_request(promo_code, promo, promo_usage)
    fees = check_fees(fees)
    price = parse_amount(unit_price, currency, field="unit_price")
    count = check_quantity(quantity)
    tax_rate = parse_percent(tax_percent, field="tax_percent")
    balance = parse_amount(wallet_balance, currency, field="wallet_balance")

    subtotal = price * count  # exact: a quantized price times an int keeps its exponent
    if subtotal > MAX_AMOUNT:
        raise InvalidAmount("subtotal exceeds the largest supported amount", field="subtotal",
                            value=subtotal, maximum=MAX_AMOUNT)
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
    if total > MAX_AMOUNT:  # such a hold could never be paid: no amount above it is accepted
        raise InvalidAmount("total exceeds the largest supported amount", field="total_amount",
                            value=total, maximum=MAX_AMOUNT)
    wallet_applied = min(balance, total)

    return Pricing.trusted(**{
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
