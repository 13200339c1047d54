"""Benchmark data, loaded straight into bookcore's tables (COPY / executemany), never through services.

One catalog serves every throughput point: a hot item, ``spread`` ordinary items, and wallets for
the customers who pay. Background bookings (with their payments and ledger lines) give the tables
their size; payable holds are added before each finalize point; lapsed and live holds before
each expiry run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.backends import Backend
from bookcore import MAX_AMOUNT, calculate_pricing

CURRENCY = "INR"
UNIT_PRICE = Decimal("500.00")
#: Finalize takes the "wallet + gateway" path: 100.00 from the wallet, 400.00 captured.
WALLET_APPLIED = Decimal("100.00")
GATEWAY_PAYABLE = UNIT_PRICE - WALLET_APPLIED
CAPACITY = 1_000_000_000
HOT_ITEM = "hot-item"
HOT_PAYER = "hot-payer"

BOOKING_COLUMNS = ("id", "item_id", "customer_id", "quantity", "status", "pricing", "promo_code",
                   "currency", "total_amount", "wallet_applied", "gateway_payable", "reserved_at",
                   "expires_at", "confirmed_at", "expired_at", "cancelled_at")
PAYMENT_COLUMNS = ("id", "booking_id", "idempotency_key", "fingerprint", "currency", "wallet_amount",
                   "gateway_amount", "gateway_reference", "outcome", "reason", "created_at")
ENTRY_COLUMNS = ("id", "customer_id", "currency", "kind", "amount", "reason", "booking_id",
                 "created_at")


def timestamp(backend: Backend, moment: datetime) -> Any:
    """A UTC instant as bookcore's UTCDateTime stores it: naive UTC (SQLite: its text format)."""
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return naive.isoformat(sep=" ", timespec="microseconds") if backend.name == "sqlite" else naive


def spread_items(count: int) -> list[str]:
    return [f"item-{index:04d}" for index in range(count)]


def spread_payer(index: int, count: int) -> str:
    return f"payer-{index % count:04d}"


def pricing_json(wallet_applied: Decimal, now: datetime) -> str:
    """The pricing column exactly as bookcore writes it for a one-unit booking."""
    return calculate_pricing(unit_price=UNIT_PRICE, quantity=1, currency=CURRENCY, now=now,
                             wallet_balance=wallet_applied).model_dump_json()


def load_catalog(backend: Backend, *, spread: int, occupied: Counter[str]) -> None:
    """The hot item and ``spread`` items (capacity minus what ``occupied`` holds), payer wallets."""
    items = [HOT_ITEM, *spread_items(spread)]
    backend.load("bookcore_inventory_items",
                 ("id", "name", "capacity", "available", "unit_price", "currency"),
                 ((item, item, CAPACITY, CAPACITY - occupied[item], backend.money(UNIT_PRICE), CURRENCY)
                  for item in items))
    rich = backend.money(MAX_AMOUNT / 10)
    payers = [HOT_PAYER, *(spread_payer(index, spread) for index in range(spread))]
    backend.load("bookcore_wallet_accounts", ("customer_id", "currency", "balance"),
                 ((payer, CURRENCY, rich) for payer in payers))


def _amounts(backend: Backend, wallet: Decimal) -> tuple[Any, Any, Any]:
    """(total_amount, wallet_applied, gateway_payable) of a one-unit booking, as stored."""
    return backend.money(UNIT_PRICE), backend.money(wallet), backend.money(UNIT_PRICE - wallet)


def _booking(backend: Backend, booking_id: str, item: str, customer: str, status: str, pricing: str,
             amounts: tuple[Any, Any, Any], reserved: datetime, expires: datetime,
             confirmed: datetime | None = None) -> tuple[Any, ...]:
    def at(moment: datetime | None) -> Any:
        return None if moment is None else timestamp(backend, moment)

    return (booking_id, item, customer, 1, status, pricing, None, CURRENCY, *amounts, at(reserved),
            at(expires), at(confirmed), at(expires if status == "expired" else None),
            at(reserved if status == "cancelled" else None))


#: Background mix per 20 bookings: 15 confirmed (paid), 3 expired, 1 cancelled, 1 held (live).
_MIX = ("confirmed",) * 15 + ("expired",) * 3 + ("cancelled", "held")


def load_background(backend: Backend, count: int, *, spread: int, now: datetime) -> None:
    """The catalog and ``count`` bookings of every status, with a payment and a ledger line per
    paid booking; each item's ``available`` leaves out what its held and confirmed bookings take."""
    items = spread_items(spread)
    pricing = pricing_json(WALLET_APPLIED, now)
    occupied: Counter[str] = Counter()
    for index in range(count):
        if _MIX[index % len(_MIX)] in ("confirmed", "held"):
            occupied[items[index % spread]] += 1
    load_catalog(backend, spread=spread, occupied=occupied)

    def moments(index: int) -> tuple[datetime, datetime]:
        reserved = now - timedelta(seconds=count - index)
        return reserved, reserved + timedelta(minutes=10)

    amounts = _amounts(backend, WALLET_APPLIED)
    wallet, gateway = backend.money(WALLET_APPLIED), backend.money(GATEWAY_PAYABLE)

    def bookings() -> Iterator[tuple[Any, ...]]:
        for index in range(count):
            status = _MIX[index % len(_MIX)]
            reserved, expires = moments(index)
            if status == "held":
                expires = now + timedelta(days=1)
            yield _booking(backend, f"bg-{index:08d}", items[index % spread], f"bg-{index % 50_000:05d}",
                           status, pricing, amounts, reserved, expires,
                           reserved + timedelta(minutes=1) if status == "confirmed" else None)

    def paid() -> Iterator[int]:
        return (index for index in range(count) if _MIX[index % len(_MIX)] == "confirmed")

    backend.load("bookcore_bookings", BOOKING_COLUMNS, bookings())
    backend.load("bookcore_payments", PAYMENT_COLUMNS, (
        (f"bgp-{index:08d}", f"bg-{index:08d}", f"bgk-{index:08d}", f"bg-{index:08d}|INR|400.00|",
         CURRENCY, wallet, gateway, None, "confirmed", None,
         timestamp(backend, moments(index)[0])) for index in paid()))
    backend.load("bookcore_wallet_entries", ENTRY_COLUMNS, (
        (f"bge-{index:08d}", f"bg-{index % 50_000:05d}", CURRENCY, "debit", wallet,
         "booking payment", f"bg-{index:08d}", timestamp(backend, moments(index)[0]))
        for index in paid()))


def load_payable_holds(backend: Backend, count: int, *, tag: str, hot: bool, spread: int,
                       now: datetime) -> list[str]:
    """``count`` live HELD bookings owing 100.00 from the wallet and 400.00 by gateway."""
    items = spread_items(spread)
    pricing = pricing_json(WALLET_APPLIED, now)
    ids = [f"{tag}-{index:07d}" for index in range(count)]
    amounts = _amounts(backend, WALLET_APPLIED)
    backend.load("bookcore_bookings", BOOKING_COLUMNS, (
        _booking(backend, booking_id, HOT_ITEM if hot else items[index % spread],
                 HOT_PAYER if hot else spread_payer(index, spread), "held", pricing, amounts,
                 now, now + timedelta(days=1))
        for index, booking_id in enumerate(ids)))
    return ids


def load_expiry(backend: Backend, *, lapsed: int, live: int, spread: int, now: datetime) -> None:
    """``lapsed`` holds whose time has passed and ``live`` ones that must stay, interleaved on disk."""
    items = spread_items(spread)
    pricing = pricing_json(Decimal(0), now)
    occupied: Counter[str] = Counter(items[index % spread] for index in range(lapsed + live))
    load_catalog(backend, spread=spread, occupied=occupied)

    total = lapsed + live
    amounts = _amounts(backend, Decimal(0))

    def rows() -> Iterator[tuple[Any, ...]]:
        for index in range(total):
            # Evenly interleaved: exactly ``lapsed`` indexes step the running share up by one.
            is_lapsed = (index + 1) * lapsed // total != index * lapsed // total
            expires = now - timedelta(hours=1, microseconds=index) if is_lapsed \
                else now + timedelta(days=1)
            yield _booking(backend, f"ex-{index:08d}", items[index % spread], f"cust-{index % 50_000:05d}",
                           "held", pricing, amounts, expires - timedelta(minutes=10), expires)

    backend.load("bookcore_bookings", BOOKING_COLUMNS, rows())
