"""Rows to domain values and back.

A frozen model's fields are its ``__dict__`` (none of these has computed fields), so ``vars()``
gives what ``model_dump()`` would, without walking its schema for every row written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bookcore.model import (
    Booking,
    BookingStatus,
    InventoryItem,
    Payment,
    PaymentOutcome,
    Refund,
    RefundMode,
    WalletEntry,
    WalletEntryKind,
)
from bookcore.money import quantize
from bookcore.pricing import pricing_from_snapshot
from bookcore.promos import PromoCode, PromoKind


def item_from(row: Mapping[Any, Any]) -> InventoryItem:
    return InventoryItem.trusted(id=row["id"], name=row["name"], capacity=row["capacity"],
                                 available=row["available"],
                                 unit_price=quantize(row["unit_price"], row["currency"]),
                                 currency=row["currency"], starts_at=row["starts_at"])


def booking_values(booking: Booking) -> dict[str, Any]:
    pricing = booking.pricing
    return {"id": booking.id, "item_id": booking.item_id, "customer_id": booking.customer_id,
            "quantity": booking.quantity, "status": booking.status.value,
            "pricing": pricing.model_dump_json(), "promo_code": pricing.promo_code,
            "currency": pricing.currency, "total_amount": pricing.total_amount,
            "wallet_applied": pricing.wallet_applied, "gateway_payable": pricing.gateway_payable,
            "reserved_at": booking.reserved_at, "expires_at": booking.expires_at,
            "confirmed_at": booking.confirmed_at, "expired_at": booking.expired_at,
            "cancelled_at": booking.cancelled_at, "request_fingerprint": booking.request_fingerprint}


def booking_from(row: Mapping[Any, Any]) -> Booking:
    return Booking.trusted(id=row["id"], item_id=row["item_id"], customer_id=row["customer_id"],
                           quantity=row["quantity"], status=BookingStatus(row["status"]),
                           pricing=pricing_from_snapshot(row["pricing"]),
                           reserved_at=row["reserved_at"], expires_at=row["expires_at"],
                           confirmed_at=row["confirmed_at"], expired_at=row["expired_at"],
                           cancelled_at=row["cancelled_at"],
                           request_fingerprint=row["request_fingerprint"])


def entry_values(entry: WalletEntry) -> dict[str, Any]:
    return {**vars(entry), "kind": entry.kind.value}


def entry_from(row: Mapping[Any, Any]) -> WalletEntry:
    return WalletEntry.trusted(id=row["id"], customer_id=row["customer_id"], currency=row["currency"],
                               kind=WalletEntryKind(row["kind"]),
                               amount=quantize(row["amount"], row["currency"]), reason=row["reason"],
                               booking_id=row["booking_id"], created_at=row["created_at"])


def payment_values(payment: Payment) -> dict[str, Any]:
    return {**vars(payment), "outcome": payment.outcome.value}


def refund_values(refund: Refund) -> dict[str, Any]:
    return {**vars(refund), "mode": refund.mode.value}


def payment_from(row: Mapping[Any, Any]) -> Payment:
    currency = row["currency"]
    return Payment.trusted(id=row["id"], booking_id=row["booking_id"],
                           idempotency_key=row["idempotency_key"], fingerprint=row["fingerprint"],
                           currency=currency, wallet_amount=quantize(row["wallet_amount"], currency),
                           gateway_amount=quantize(row["gateway_amount"], currency),
                           gateway_reference=row["gateway_reference"],
                           outcome=PaymentOutcome(row["outcome"]), reason=row["reason"],
                           created_at=row["created_at"])


def refund_from(row: Mapping[Any, Any]) -> Refund:
    currency = row["currency"]
    return Refund.trusted(id=row["id"], booking_id=row["booking_id"], payment_id=row["payment_id"],
                          currency=currency, to_wallet=quantize(row["to_wallet"], currency),
                          to_gateway=quantize(row["to_gateway"], currency),
                          mode=RefundMode(row["mode"]), reason=row["reason"],
                          created_at=row["created_at"], charge_reference=row["charge_reference"],
                          executed_at=row["executed_at"], refund_reference=row["refund_reference"])


def promo_from(definition: str) -> PromoCode:
    """PromoCode is strict about Python input, so JSON's strings become enums and datetimes here."""
    data = json.loads(definition)
    data["kind"] = PromoKind(data["kind"])
    for name in ("valid_from", "valid_until"):
        if data.get(name) is not None:
            data[name] = datetime.fromisoformat(data[name].replace("Z", "+00:00"))
    return PromoCode(**data)
