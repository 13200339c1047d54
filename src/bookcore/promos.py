"""Promo code rules: what a code is worth on a subtotal, or exactly why it is refused."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, field_validator, model_validator

from bookcore.money import HUNDRED, StrictDecimal, parse_amount, parse_percent, round_half_up
from bookcore.values import InputModel


class PromoKind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


class PromoRefusal(StrEnum):
    """Why a code the customer entered did not apply; shown to them, never silently dropped."""

    UNKNOWN_CODE = "unknown_code"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    BELOW_MINIMUM_SUBTOTAL = "below_minimum_subtotal"
    CURRENCY_MISMATCH = "currency_mismatch"
    USAGE_LIMIT_REACHED = "usage_limit_reached"
    CUSTOMER_LIMIT_REACHED = "customer_limit_reached"


def normalize_code(code: str) -> str:
    """Codes are matched case-insensitively and without surrounding blanks."""
    return code.strip().upper()


class PromoUsage(InputModel):
    """How often a code is already taken: by everyone, and by the customer asking."""

    total: int = 0
    by_customer: int = 0


NO_USAGE = PromoUsage()


class PromoCode(InputModel):
    """A promo code definition.

    ``value`` is a percent (``Decimal('10')`` = 10%) for PERCENTAGE codes and an amount in
    ``currency`` for FIXED ones. ``valid_until`` is exclusive: a code expiring at exactly ``now``
    no longer applies. Any money field (fixed value, cap, minimum) requires ``currency``.
    """

    code: str
    kind: PromoKind
    value: StrictDecimal
    currency: str | None = None
    max_discount: StrictDecimal | None = None
    min_subtotal: StrictDecimal | None = None
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    max_uses: int | None = None
    max_uses_per_customer: int | None = None

    @field_validator("code")
    @classmethod
    def _normalize(cls, code: str) -> str:
        normalized = normalize_code(code)
        if not normalized or len(normalized) > 64 or not normalized.isprintable():
            raise ValueError("a code is 1 to 64 printable characters")
        return normalized

    @field_validator("max_uses", "max_uses_per_customer")
    @classmethod
    def _positive_limit(cls, limit: int | None) -> int | None:
        if limit is not None and limit < 1:
            raise ValueError("a usage limit is at least 1")
        return limit

    @model_validator(mode="after")
    def _consistent(self) -> PromoCode:
        has_money = self.kind is PromoKind.FIXED or self.max_discount is not None \
            or self.min_subtotal is not None
        if has_money and self.currency is None:
            raise ValueError("a fixed value, cap or minimum needs a currency")
        if self.kind is PromoKind.PERCENTAGE:
            parse_percent(self.value, field="value")
        elif self.currency is not None:
            parse_amount(self.value, self.currency, field="value", allow_zero=False)
        for name in ("max_discount", "min_subtotal"):
            amount = getattr(self, name)
            if amount is not None and self.currency is not None:
                parse_amount(amount, self.currency, field=name)
        if self.valid_from and self.valid_until and self.valid_from >= self.valid_until:
            raise ValueError("valid_from must be before valid_until")
        return self


def refusal_for(promo: PromoCode, *, subtotal: Decimal, currency: str, now: datetime,
                usage: PromoUsage) -> PromoRefusal | None:
    """The first rule the code breaks for this booking, or None if it applies."""
    if promo.currency is not None and promo.currency != currency:
        return PromoRefusal.CURRENCY_MISMATCH
    if promo.valid_from is not None and now < promo.valid_from:
        return PromoRefusal.NOT_YET_VALID
    if promo.valid_until is not None and now >= promo.valid_until:
        return PromoRefusal.EXPIRED
    if promo.min_subtotal is not None and subtotal < promo.min_subtotal:
        return PromoRefusal.BELOW_MINIMUM_SUBTOTAL
    if promo.max_uses is not None and usage.total >= promo.max_uses:
        return PromoRefusal.USAGE_LIMIT_REACHED
    if promo.max_uses_per_customer is not None and usage.by_customer >= promo.max_uses_per_customer:
        return PromoRefusal.CUSTOMER_LIMIT_REACHED
    return None


def discount_for(promo: PromoCode, *, subtotal: Decimal, step: Decimal) -> Decimal:
    """The discount an applicable code gives: rounded half up, capped, never above the subtotal.

    ``step`` is the currency's minor unit; the code's own amounts were validated when it was built.
    """
    if promo.kind is PromoKind.PERCENTAGE:
        discount = round_half_up(subtotal * promo.value / HUNDRED, step)
    else:
        discount = round_half_up(promo.value, step)
    cap = promo.max_discount
    if cap is not None and cap < discount:
        discount = round_half_up(cap, step)
    return min(discount, subtotal)
