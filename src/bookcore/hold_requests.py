"""What a hold was asked for, so that a retry with its ``booking_id`` can be checked against it.

A booking stores its request's fingerprint: canonical JSON of every argument that shapes the hold,
with promo codes normalized and decimals without trailing zeros, so equal requests always match
and a retry that differs names what differs.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bookcore.model import Booking
from bookcore.pricing import Charges
from bookcore.promos import normalize_code

#: Every field a fingerprint compares, in the order a conflict names them.
FIELDS = ("item_id", "customer_id", "quantity", "promo_code", "charges", "hold_ttl")


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _request(*, item_id: str, customer_id: str, quantity: int, promo_code: str | None,
             charges: Charges, hold_ttl: timedelta) -> dict[str, Any]:
    return {"item_id": item_id, "customer_id": customer_id, "quantity": quantity,
            "promo_code": None if promo_code is None else normalize_code(promo_code),
            "charges": {"fees": [[fee.name, fee.kind.value, _number(fee.value), fee.currency]
                                 for fee in charges.fees],
                        "tax_percent": _number(charges.tax_percent)},
            "hold_ttl": hold_ttl // timedelta(microseconds=1)}


def fingerprint(**request: Any) -> str:
    """The canonical text of a hold request (``place_hold``'s arguments by name)."""
    return json.dumps(_request(**request), sort_keys=True, separators=(",", ":"))


def _stored(booking: Booking) -> dict[str, Any]:
    """What a booking says it was asked for: its fingerprint, or, for a booking held before
    fingerprints were stored, what the booking itself still shows."""
    if booking.request_fingerprint is not None:
        stored: dict[str, Any] = json.loads(booking.request_fingerprint)
        return stored
    return {"item_id": booking.item_id, "customer_id": booking.customer_id,
            "quantity": booking.quantity,
            "hold_ttl": (booking.expires_at - booking.reserved_at) // timedelta(microseconds=1)}


def differences(booking: Booking, request_fingerprint: str) -> list[str]:
    """The fields in which a request differs from the one ``booking`` was held for."""
    stored, asked = _stored(booking), json.loads(request_fingerprint)
    return [name for name in FIELDS if name in stored and stored[name] != asked[name]]
