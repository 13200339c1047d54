"""The raw-SQL baselines: what a careful hand-written implementation on the bare driver does.

psycopg 3 on PostgreSQL, sqlite3 on SQLite, on bookcore's own schema. Each operation does the same
work as bookcore's, with the statements bookcore used when this baseline was written (bookcore has
since merged some: a hold's read and take on PostgreSQL and SQLite, and on PostgreSQL a payment's
lock and key lookup, and its debit and ledger line; docs/benchmarks.md says what that is worth):

- hold: read the item's price and the customer's wallet balance (the stored pricing records the
  wallet share) in one joined SELECT, conditional UPDATE of ``available``, INSERT the booking with
  its pricing JSON;
- finalize: lock the booking, check the idempotency key, conditional wallet debit, INSERT the ledger
  line, INSERT the payment, UPDATE the booking to confirmed;
- expire: one set-based statement for the inventory release and the status change.

Every transaction is one ``BEGIN ... COMMIT`` (SQLite: ``BEGIN IMMEDIATE``, as bookcore's engine).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.backends import Backend
from bench.fixtures import BOOKING_COLUMNS, timestamp

HOLD_TTL = timedelta(minutes=10)
CENT = Decimal("0.01")

_SQL = {
    # The item's price and the customer's wallet balance in that currency, in one round trip.
    "item": "SELECT i.unit_price, i.currency, w.balance FROM bookcore_inventory_items i "
            "LEFT JOIN bookcore_wallet_accounts w ON w.customer_id = ? AND w.currency = i.currency "
            "WHERE i.id = ?",
    "take": "UPDATE bookcore_inventory_items SET available = available - ? WHERE id = ? AND available >= ?",
    "insert_booking": f"INSERT INTO bookcore_bookings ({', '.join(BOOKING_COLUMNS)}) "
                      f"VALUES ({', '.join('?' * len(BOOKING_COLUMNS))})",
    "lock_booking": "SELECT status, expires_at, customer_id, currency, wallet_applied, gateway_payable "
                    "FROM bookcore_bookings WHERE id = ?",
    "payment_by_key": "SELECT id FROM bookcore_payments WHERE idempotency_key = ?",
    "debit": "UPDATE bookcore_wallet_accounts SET balance = balance - ? "
             "WHERE customer_id = ? AND currency = ? AND balance - ? >= 0",
    "insert_entry": "INSERT INTO bookcore_wallet_entries (id, customer_id, currency, kind, amount, reason, "
                    "booking_id, created_at) VALUES (?, ?, ?, 'debit', ?, 'booking payment', ?, ?)",
    "insert_payment": "INSERT INTO bookcore_payments (id, booking_id, idempotency_key, fingerprint, "
                      "currency, wallet_amount, gateway_amount, gateway_reference, outcome, reason, "
                      "created_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'confirmed', NULL, ?)",
    "confirm": "UPDATE bookcore_bookings SET status = 'confirmed', confirmed_at = ? "
               "WHERE id = ? AND status = 'held'",
}

_EXPIRE_POSTGRES = """
WITH expired AS (
    UPDATE bookcore_bookings SET status = 'expired', expired_at = %(now)s
    WHERE status = 'held' AND expires_at <= %(now)s
    RETURNING item_id, quantity
), released AS (
    UPDATE bookcore_inventory_items SET available = available + x.n
    FROM (SELECT item_id, sum(quantity) AS n FROM expired GROUP BY item_id) AS x
    WHERE bookcore_inventory_items.id = x.item_id
)
SELECT count(*) FROM expired
"""

_EXPIRE_SQLITE = (
    "UPDATE bookcore_inventory_items SET available = available + x.n "
    "FROM (SELECT item_id, sum(quantity) AS n FROM bookcore_bookings "
    "      WHERE status = 'held' AND expires_at <= :now GROUP BY item_id) AS x "
    "WHERE bookcore_inventory_items.id = x.item_id",
    "UPDATE bookcore_bookings SET status = 'expired', expired_at = :now "
    "WHERE status = 'held' AND expires_at <= :now",
)


class BaselineFailed(Exception):
    """The baseline met a state the benchmark never sets up (a bug in the harness)."""


def _pricing(backend: Backend, unit_price: Any, quantity: int, currency: str, wallet: Any,
             now: datetime) -> tuple[str, Any]:
    """The pricing JSON of a plain booking (no promo, fees or tax), and its wallet share (as stored)."""
    total = unit_price * quantity
    applied = min(wallet, total)

    def text(value: Any) -> str:
        return str(backend.money_from(value).quantize(CENT))

    zero = str(Decimal(0).quantize(CENT))
    document = {
        "currency": currency, "unit_price": text(unit_price), "quantity": quantity,
        "subtotal": text(total), "discount": zero, "fee_lines": [], "fees": zero,
        "tax_percent": "0", "tax": zero, "total_amount": text(total),
        "wallet_applied": text(applied), "gateway_payable": text(total - applied),
        "promo_code": None, "promo_refusal": None,
        "priced_at": now.isoformat().replace("+00:00", "Z"), "requires_gateway": total > applied,
    }
    return json.dumps(document, separators=(",", ":")), applied


class RawBaseline:
    """The baseline operations on one raw connection (one per client thread)."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._sqlite = backend.name == "sqlite"
        self._connection = backend.raw()
        self._sql = {name: sql if self._sqlite else sql.replace("?", "%s") for name, sql in _SQL.items()}
        if not self._sqlite:
            self._sql["lock_booking"] += " FOR UPDATE"

    def close(self) -> None:
        self._connection.close()

    def _run(self, name: str, *params: Any) -> Any:
        return self._connection.execute(self._sql[name], params)

    def _begin(self) -> None:
        if self._sqlite:
            self._connection.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        if self._sqlite:
            self._connection.execute("COMMIT")
        else:
            self._connection.commit()

    def _ts(self, moment: datetime) -> Any:
        return timestamp(self._backend, moment)

    def hold(self, item_id: str, customer_id: str, quantity: int) -> str:
        now = datetime.now(UTC)
        booking_id = uuid.uuid4().hex
        self._begin()
        try:
            item = self._run("item", customer_id, item_id).fetchone()
            if item is None:
                raise BaselineFailed(f"no item {item_id}")
            unit_price, currency, balance = item
            pricing, applied = _pricing(self._backend, unit_price, quantity, currency, balance or 0, now)
            if self._run("take", quantity, item_id, quantity).rowcount != 1:
                raise BaselineFailed(f"item {item_id} is sold out")
            total = unit_price * quantity
            self._run("insert_booking", booking_id, item_id, customer_id, quantity, "held", pricing,
                      None, currency, total, applied, total - applied, self._ts(now),
                      self._ts(now + HOLD_TTL), None, None, None)
            self._commit()
        except BaseException:
            self._connection.rollback()
            raise
        return booking_id

    def finalize(self, booking_id: str, idempotency_key: str, gateway_amount: Any, currency: str) -> None:
        """Confirm a held booking; ``gateway_amount`` as the schema stores money."""
        now = datetime.now(UTC)
        self._begin()
        try:
            booking = self._run("lock_booking", booking_id).fetchone()
            if booking is None:
                raise BaselineFailed(f"no booking {booking_id}")
            if self._run("payment_by_key", idempotency_key).fetchone() is not None:
                self._commit()  # a replay: the first call's result stands
                return
            status, expires_at, customer_id, booked_currency, wallet, owed = booking
            if status != "held" or expires_at <= self._ts(now) or booked_currency != currency \
                    or owed != gateway_amount:
                raise BaselineFailed(f"booking {booking_id} cannot be confirmed")
            if wallet and self._run("debit", wallet, customer_id, currency, wallet).rowcount != 1:
                raise BaselineFailed(f"wallet of {customer_id} is short")
            self._run("insert_entry", uuid.uuid4().hex, customer_id, currency, wallet, booking_id,
                      self._ts(now))
            paid = self._backend.money_from(gateway_amount).quantize(CENT)
            fingerprint = f"{booking_id}|{currency}|{paid}|"
            self._run("insert_payment", uuid.uuid4().hex, booking_id, idempotency_key, fingerprint,
                      currency, wallet, gateway_amount, self._ts(now))
            self._run("confirm", self._ts(now), booking_id)
            self._commit()
        except BaseException:
            self._connection.rollback()
            raise

    def expire(self, now: datetime) -> int:
        """Expire every lapsed hold and release its units in one transaction; returns the count."""
        when = self._ts(now)
        self._begin()
        try:
            if self._sqlite:
                self._connection.execute(_EXPIRE_SQLITE[0], {"now": when})
                expired = self._connection.execute(_EXPIRE_SQLITE[1], {"now": when}).rowcount
            else:
                (expired,) = self._connection.execute(_EXPIRE_POSTGRES, {"now": when}).fetchone() or (0,)
            self._commit()
        except BaseException:
            self._connection.rollback()
            raise
        return int(expired)
