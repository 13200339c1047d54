"""What the clients work on, named the same way by the loader and by every client process:
items, customers and bookings, and the pricing document a plain one-unit booking records."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

CURRENCY = "INR"
UNIT_PRICE = Decimal("500.00")
#: Finalize takes the "wallet + gateway" path: 100.00 from the wallet, 400.00 captured.
WALLET_APPLIED = Decimal("100.00")
GATEWAY_PAYABLE = UNIT_PRICE - WALLET_APPLIED
CAPACITY = 1_000_000_000
HOT_ITEM = "hot-item"
HOT_PAYER = "hot-payer"
OPERATIONS = ("hold", "finalize", "cancel")
SHAPES = ("hot", "spread")
CENT = Decimal("0.01")
#: A stride that spreads one client's calls, and different clients', over the items.
STRIDE = 7919


def spread_item(index: int) -> str:
    return f"item-{index:04d}"


def spread_payer(index: int) -> str:
    return f"payer-{index:04d}"


def booking_id(tag: str, client: int, call: int) -> str:
    return f"{tag}-{client:02d}-{call:06d}"


def item_for(shape: str, client: int, call: int, spread: int) -> str:
    return HOT_ITEM if shape == "hot" else spread_item((client * STRIDE + call) % spread)


def payer_for(shape: str, client: int, call: int, spread: int) -> str:
    """Who pays for (and cancels) a booking: one customer on the hot shape, many on the spread."""
    return HOT_PAYER if shape == "hot" else spread_payer((client * STRIDE + call) % spread)


def plain_pricing(unit_price: Decimal, quantity: int, currency: str, wallet: Decimal,
                  now: datetime) -> tuple[str, Decimal]:
    """The pricing document of a booking with no promo, fees or tax, and its wallet share: what
    the baselines compute in Python, as an app on the bare driver or the ORM would."""
    total = (unit_price * quantity).quantize(CENT)
    applied = min(wallet, total).quantize(CENT)
    zero = str(Decimal(0).quantize(CENT))
    document = {
        "currency": currency, "unit_price": str(unit_price.quantize(CENT)), "quantity": quantity,
        "subtotal": str(total), "discount": zero, "fee_lines": [], "fees": zero, "tax_percent": "0",
        "tax": zero, "total_amount": str(total), "wallet_applied": str(applied),
        "gateway_payable": str(total - applied), "promo_code": None, "promo_refusal": None,
        "priced_at": now.isoformat().replace("+00:00", "Z"), "requires_gateway": total > applied,
    }
    return json.dumps(document, separators=(",", ":")), applied
