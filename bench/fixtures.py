"""Benchmark data, loaded in bulk (COPY / executemany) straight into the tables, never through an
implementation: bookcore's tables for bookcore and the raw baseline, the ``peer_`` tables for the
ORM pattern. Each value is written as that implementation stores it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.backends import Backend, Target
from bench.work import (
    CAPACITY,
    CURRENCY,
    GATEWAY_PAYABLE,
    HOT_ITEM,
    HOT_PAYER,
    UNIT_PRICE,
    WALLET_APPLIED,
    booking_id,
    item_for,
    payer_for,
    plain_pricing,
    spread_item,
    spread_payer,
)
from bookcore import MAX_AMOUNT, calculate_pricing

BOOKING_COLUMNS = ("id", "item_id", "customer_id", "quantity", "status", "pricing", "currency",
                   "total_amount", "wallet_applied", "gateway_payable", "reserved_at", "expires_at",
                   "confirmed_at")
PAYMENT_COLUMNS = ("id", "booking_id", "idempotency_key", "fingerprint", "currency", "wallet_amount",
                   "gateway_amount", "outcome", "created_at")
PEER_PAYMENT_COLUMNS = ("id", "booking_id", "idempotency_key", "currency", "wallet_amount",
                        "gateway_amount", "outcome", "created_at")
RICH = MAX_AMOUNT / 10


class Tables:
    """Where one implementation's rows live, and how it writes money and time there."""

    def __init__(self, backend: Backend, target: Target, *, peer: bool) -> None:
        self.backend, self.target, self.peer = backend, target, peer
        prefix = "peer_" if peer else "bookcore_"
        self.items = "peer_items" if peer else "bookcore_inventory_items"
        self.bookings = f"{prefix}bookings"
        self.wallets = "peer_wallets" if peer else "bookcore_wallet_accounts"
        self.payments, self.refunds = f"{prefix}payments", f"{prefix}refunds"

    def money(self, amount: Decimal) -> Any:
        if not self.peer:
            return self.target.money(amount)
        return str(amount) if self.target.kind == "sqlite" else amount  # Django's DecimalField

    def at(self, moment: datetime | None) -> Any:
        if moment is None:
            return None
        if not self.peer:
            return self.target.timestamp(moment)
        naive = moment.astimezone(UTC).replace(tzinfo=None)
        return str(naive) if self.target.kind == "sqlite" else moment  # Django's DateTimeField

    def pricing(self, wallet: Decimal, now: datetime) -> str:
        if self.peer:
            return plain_pricing(UNIT_PRICE, 1, CURRENCY, wallet, now)[0]
        return calculate_pricing(unit_price=UNIT_PRICE, quantity=1, currency=CURRENCY, now=now,
                                 wallet_balance=wallet).model_dump_json()

    def count(self, table: str, where: str, *params: Any) -> int:
        return int(self.backend.scalar(f"SELECT count(*) FROM {table} WHERE {where}", *params))


def load_catalog(tables: Tables, *, spread: int, taken: Mapping[str, int] | None = None) -> None:
    """The hot item and ``spread`` items, with ``taken`` units out (default: half of each, which
    the cancelled bookings give back), and rich payers' wallets."""
    items = [HOT_ITEM, *(spread_item(index) for index in range(spread))]
    out = taken if taken is not None else dict.fromkeys(items, CAPACITY // 2)
    tables.backend.load(tables.items, ("id", "name", "capacity", "available", "unit_price", "currency"),
                        ((item, item, CAPACITY, CAPACITY - out.get(item, 0), tables.money(UNIT_PRICE),
                          CURRENCY) for item in items))
    payers = [HOT_PAYER, *(spread_payer(index) for index in range(spread))]
    tables.backend.load(tables.wallets, ("customer_id", "currency", "balance"),
                        ((payer, CURRENCY, tables.money(RICH)) for payer in payers))


#: Background mix per 20 bookings, a live app's: 14 paid, 3 expired, 1 cancelled, 2 held (live).
_MIX = ("confirmed",) * 14 + ("expired",) * 3 + ("cancelled",) + ("held",) * 2


def load_background(tables: Tables, count: int, *, spread: int) -> None:
    """``count`` bookings of every status (the paid ones with their payment and ledger line):
    tables of a live app's size and mix, analyzed as such, so no query is planned for tables
    that are empty or hold no live holds."""
    now = datetime.now(UTC)
    pricing = tables.pricing(WALLET_APPLIED, now)
    statuses = [(f"bg-{index:07d}", _MIX[index % len(_MIX)]) for index in range(count)]
    tables.backend.load(tables.bookings, BOOKING_COLUMNS, (
        (booking, spread_item(index % spread), spread_payer(index % spread), 1, status, pricing,
         CURRENCY, tables.money(UNIT_PRICE), tables.money(WALLET_APPLIED), tables.money(GATEWAY_PAYABLE),
         tables.at(now), tables.at(now + timedelta(minutes=10)),
         tables.at(now) if status == "confirmed" else None)
        for index, (booking, status) in enumerate(statuses)))
    paid = [booking for booking, status in statuses if status == "confirmed"]
    _load_payments(tables, paid, now)
    columns = ("customer_id", "currency", "kind", "amount", "reason", "booking_id", "created_at")
    tables.backend.load(
        "peer_wallet_entries" if tables.peer else "bookcore_wallet_entries",
        columns if tables.peer else ("id", *columns),
        ((*(() if tables.peer else (f"{booking}-e",)), spread_payer(index % spread), CURRENCY, "debit",
          tables.money(WALLET_APPLIED), "booking payment", booking, tables.at(now))
         for index, booking in enumerate(paid)))


def load_work(tables: Tables, operation: str, *, shape: str, tag: str, clients: int, calls: int,
              spread: int) -> None:
    """What ``calls`` finalize or cancel calls of each client work on: live holds owing 100.00
    from the wallet and 400.00 by gateway, or bookings paid that way (a payment row each)."""
    if operation == "hold":
        return
    now = datetime.now(UTC)
    status = "held" if operation == "finalize" else "confirmed"
    pricing = tables.pricing(WALLET_APPLIED, now)
    keys = [(client, call) for client in range(clients) for call in range(calls)]

    def bookings() -> Iterator[tuple[Any, ...]]:
        for client, call in keys:
            yield (booking_id(tag, client, call), item_for(shape, client, call, spread),
                   payer_for(shape, client, call, spread), 1, status, pricing, CURRENCY,
                   tables.money(UNIT_PRICE), tables.money(WALLET_APPLIED), tables.money(GATEWAY_PAYABLE),
                   tables.at(now), tables.at(now + timedelta(days=1)),
                   tables.at(now) if status == "confirmed" else None)

    tables.backend.load(tables.bookings, BOOKING_COLUMNS, bookings())
    if operation == "cancel":
        _load_payments(tables, [booking_id(tag, client, call) for client, call in keys], now)


def _load_payments(tables: Tables, booking_ids: list[str], now: datetime) -> None:
    def row(booking: str) -> tuple[Any, ...]:
        paid = (tables.money(WALLET_APPLIED), tables.money(GATEWAY_PAYABLE), "confirmed", tables.at(now))
        if tables.peer:
            return (f"{booking}-p", booking, f"{booking}-key", CURRENCY, *paid)
        return (f"{booking}-p", booking, f"{booking}-key", f"{booking}|{CURRENCY}|{GATEWAY_PAYABLE}|",
                CURRENCY, *paid)

    tables.backend.load(tables.payments, PEER_PAYMENT_COLUMNS if tables.peer else PAYMENT_COLUMNS,
                        (row(booking) for booking in booking_ids))


def load_expiry(tables: Tables, *, lapsed: int, live: int, spread: int, now: datetime) -> None:
    """The catalog, ``lapsed`` holds whose time has passed and ``live`` ones that must stay,
    interleaved on disk, spread over the items; each item's ``available`` leaves them out."""
    total = lapsed + live
    load_catalog(tables, spread=spread, taken=Counter(spread_item(index % spread) for index in range(total)))
    pricing = tables.pricing(Decimal(0), now)
    price, zero = tables.money(UNIT_PRICE), tables.money(Decimal(0))

    def rows() -> Iterator[tuple[Any, ...]]:
        for index in range(total):
            # Evenly interleaved: exactly ``lapsed`` indexes step the running share up by one.
            is_lapsed = (index + 1) * lapsed // total != index * lapsed // total
            expires = now - timedelta(hours=1, microseconds=index) if is_lapsed else now + timedelta(days=1)
            yield (f"ex-{index:08d}", spread_item(index % spread), f"cust-{index % 50_000:05d}", 1,
                   "held", pricing, CURRENCY, price, zero, price,
                   tables.at(expires - timedelta(minutes=10)), tables.at(expires), None)

    tables.backend.load(tables.bookings, BOOKING_COLUMNS, rows())
