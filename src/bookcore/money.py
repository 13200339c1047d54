"""Decimal amounts in ISO 4217 currencies: validated and quantized once, where they enter bookcore."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from typing import Annotated, Any, ParamSpec, TypeVar

from pydantic import BeforeValidator, ValidationInfo

from bookcore.errors import CurrencyMismatch, InvalidAmount, InvalidInput, UnknownCurrency

#: Minor-unit exponent of each supported currency (ISO 4217).
MINOR_UNITS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2, "CZK": 2,
    "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3,
    "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "LYD": 3, "MXN": 2, "MYR": 2, "NOK": 2,
    "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "QAR": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2,
    "TND": 3, "TRY": 2, "TWD": 2, "UGX": 0, "USD": 2, "VND": 0, "ZAR": 2,
}  # fmt: skip

#: Rounding used for every computed amount; named here so it is never the context's default
#: (banker's rounding).
ROUNDING = ROUND_HALF_UP

#: The context all of bookcore's money arithmetic runs in (``in_money_context``) and every amount
#: is rounded in (``round_half_up``). Its own rather than the caller's, so a caller's
#: ``localcontext`` (fewer digits, another rounding, other traps) can never change an amount. It is
#: the default context, spelled out so a changed ``DefaultContext`` cannot leak in, with half-up
#: rounding: 28 digits, and InvalidOperation, DivisionByZero and Overflow raise.
MONEY_CONTEXT = Context(prec=28, rounding=ROUNDING, Emin=-999_999, Emax=999_999, capitals=1,
                        clamp=0, flags=[], traps=[InvalidOperation, DivisionByZero, Overflow])
#: ``round_half_up(amount, step)`` rounds ``amount`` half up to a multiple of ``step``.
round_half_up = MONEY_CONTEXT.quantize

#: Largest amount bookcore accepts anywhere; keeps every computed total inside the database's
#: NUMERIC(20, 3) columns with room for fees and tax.
MAX_AMOUNT = Decimal("1000000000000")

_QUANTUM: dict[str, Decimal] = {code: Decimal(1).scaleb(-exp) for code, exp in MINOR_UNITS.items()}
ZERO = Decimal(0)
HUNDRED = Decimal(100)
#: Zero with each currency's exponent (``0.00`` for EUR), so sums and results look alike.
ZEROS: dict[str, Decimal] = {code: round_half_up(ZERO, step) for code, step in _QUANTUM.items()}

P = ParamSpec("P")
R = TypeVar("R")


def in_money_context(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` in ``MONEY_CONTEXT``, whatever decimal context its caller is in.

    Every public function that computes, stores or reads amounts is wrapped in it, so the
    arithmetic of pricing, of the stores' balances and of amounts read back is bookcore's own.
    """
    @functools.wraps(function)
    def in_context(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(MONEY_CONTEXT):
            return function(*args, **kwargs)

    return in_context


def check_currency(currency: object, *, field: str = "currency") -> str:
    """Return the currency code if bookcore knows it, else raise ``UnknownCurrency``."""
    if not isinstance(currency, str) or currency not in _QUANTUM:
        raise UnknownCurrency("unknown currency code; use an ISO 4217 code such as 'EUR'",
                              field=field, currency=currency)
    return currency


def quantum(currency: str) -> Decimal:
    """The currency's smallest unit, e.g. ``Decimal('0.01')`` for EUR."""
    try:
        return _QUANTUM[currency]
    except (KeyError, TypeError):  # TypeError: an unhashable "currency"
        check_currency(currency)
        raise  # pragma: no cover - check_currency always raises here


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round a computed amount to the currency's minor unit, half up."""
    step = quantum(currency)
    if type(amount) is not Decimal or not amount.is_finite():
        amount = to_decimal(amount)
    try:
        return round_half_up(amount, step)
    except InvalidOperation:  # more than the context's 28 digits once rounded
        raise InvalidAmount("amount has too many digits", field="amount", value=amount) from None


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Turn caller input into a finite Decimal; floats are refused because they are already wrong."""
    if isinstance(value, bool | float):
        raise InvalidAmount(f"{field} must be a Decimal, int or numeric string, not {type(value).__name__}",
                            field=field, value=value)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip(), MONEY_CONTEXT)  # refused even where the caller traps nothing
        except InvalidOperation:
            raise InvalidAmount(f"{field} is not a number", field=field, value=value) from None
    else:
        raise InvalidAmount(f"{field} must be a Decimal, int or numeric string",
                            field=field, value=value)
    if not number.is_finite():
        raise InvalidAmount(f"{field} must be finite", field=field, value=value)
    return number


def parse_amount(value: object, currency: str, *, field: str = "amount",
                 allow_zero: bool = True) -> Decimal:
    """Validate a raw amount given in ``currency`` and return it quantized.

    Refuses negatives, amounts above ``MAX_AMOUNT`` and more decimal places than the currency has:
    silently rounding a price someone typed would change what they meant.
    """
    step = _QUANTUM.get(currency) if isinstance(currency, str) else None
    if step is None:
        check_currency(currency)
        raise AssertionError("unreachable")  # pragma: no cover
    if type(allow_zero) is not bool:
        raise InvalidInput("allow_zero must be a bool", field="allow_zero", value=allow_zero)
    # Hot path: pricing validates several amounts per quote; a finite Decimal skips the parsing.
    number = value if type(value) is Decimal and value.is_finite() else to_decimal(value, field=field)
    if number < 0 or (not allow_zero and number == 0):
        raise InvalidAmount(f"{field} must be {'non-negative' if allow_zero else 'positive'}",
                            field=field, value=value)
    if number > MAX_AMOUNT:
        raise InvalidAmount(f"{field} exceeds the largest supported amount",
                            field=field, value=value, maximum=MAX_AMOUNT)
    exact = round_half_up(number, step)
    if exact != number:
        raise InvalidAmount(f"{field} has more decimal places than {currency} allows",
                            field=field, value=value, currency=currency,
                            minor_units=MINOR_UNITS[currency])
    return exact if exact else exact.copy_abs()  # "-0" is zero, and must not print as "-0.00"


def parse_percent(value: object, *, field: str = "percent") -> Decimal:
    """Validate a percentage between 0 and 100 inclusive (``Decimal('18')`` means 18%)."""
    number = value if type(value) is Decimal and value.is_finite() else to_decimal(value, field=field)
    if not 0 <= number <= 100:
        raise InvalidAmount(f"{field} must be between 0 and 100", field=field, value=value)
    return number if number else number.copy_abs()


def same_currency(expected: str, actual: str, *, what: str, field: str = "currency") -> None:
    if expected != actual:
        raise CurrencyMismatch(f"{what} is in {actual}, expected {expected}",
                               field=field, expected=expected, actual=actual)


def _to_decimal(value: Any, info: ValidationInfo) -> Decimal:
    return to_decimal(value, field=info.field_name or "value")


#: A Decimal field in a pydantic model: accepts Decimal, int or numeric strings; refuses floats,
#: booleans and non-finite values with ``InvalidAmount`` instead of converting them.
StrictDecimal = Annotated[Decimal, BeforeValidator(_to_decimal)]
