"""The raw-SQL baseline: the fewest statements that do bookcore's work with its guarantees.

psycopg 3 on PostgreSQL (each statement prepared on the server), sqlite3 on SQLite (which caches
its statements per connection), on bookcore's own tables, at bookcore's isolation and durability:
no oversell (a conditional ``UPDATE ... WHERE available >= n``), one payment per idempotency key
(the unique index), a wallet debited only while it covers the amount, and the same rows written
(the booking; the payment and the ledger line; the refund and the ledger line).

PostgreSQL, autocommit with data-modifying CTEs: a hold is a read of the price and wallet, then
one statement that takes the unit (at that price) and inserts the booking; a payment is one
statement between BEGIN and COMMIT (rolled back when the wallet falls short); a cancellation is
one statement. SQLite has no writes in CTEs: each is a few statements after ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from bench.backends import SQLITE_BUSY_TIMEOUT_S, Target
from bench.work import CURRENCY, GATEWAY_PAYABLE, plain_pricing

HOLD_TTL = timedelta(minutes=10)
_BOOKING = ("id, item_id, customer_id, quantity, status, pricing, currency, total_amount, wallet_applied, "
            "gateway_payable, reserved_at, expires_at")
_PAID = "('confirmed', 'confirmed_late')"

_PG_READ_ITEM = (
    "SELECT i.unit_price, i.currency, w.balance FROM bookcore_inventory_items i "
    "LEFT JOIN bookcore_wallet_accounts w ON w.customer_id = %(customer)s AND w.currency = i.currency "
    "WHERE i.id = %(item)s")
_PG_HOLD = f"""
WITH taken AS (
    UPDATE bookcore_inventory_items SET available = available - %(quantity)s
    WHERE id = %(item)s AND available >= %(quantity)s AND unit_price = %(price)s AND currency = %(currency)s
    RETURNING id)
INSERT INTO bookcore_bookings ({_BOOKING})
SELECT %(id)s, id, %(customer)s, %(quantity)s, 'held', %(pricing)s, %(currency)s, %(total)s, %(applied)s,
       %(owed)s, %(now)s, %(expires)s FROM taken"""
_PG_FINALIZE = """
WITH confirmed AS (
    UPDATE bookcore_bookings SET status = 'confirmed', confirmed_at = %(now)s
    WHERE id = %(booking)s AND status = 'held' AND expires_at > %(now)s AND currency = %(currency)s
      AND gateway_payable = %(gateway)s
    RETURNING id, customer_id, currency, wallet_applied
), debited AS (
    UPDATE bookcore_wallet_accounts w SET balance = w.balance - c.wallet_applied FROM confirmed c
    WHERE w.customer_id = c.customer_id AND w.currency = c.currency AND w.balance >= c.wallet_applied
    RETURNING c.id, c.customer_id, c.currency, c.wallet_applied
), entry AS (
    INSERT INTO bookcore_wallet_entries
        (id, customer_id, currency, kind, amount, reason, booking_id, created_at)
    SELECT %(entry)s, customer_id, currency, 'debit', wallet_applied, 'booking payment', id, %(now)s
    FROM debited)
INSERT INTO bookcore_payments (id, booking_id, idempotency_key, fingerprint, currency, wallet_amount,
                      gateway_amount, outcome, created_at)
SELECT %(payment)s, id, %(key)s, %(fingerprint)s, currency, wallet_applied, %(gateway)s, 'confirmed', %(now)s
FROM debited"""
_PG_CANCEL = f"""
WITH target AS (
    SELECT id, status FROM bookcore_bookings WHERE id = %(booking)s AND customer_id = %(customer)s FOR UPDATE
), cancelled AS (
    UPDATE bookcore_bookings b SET status = 'cancelled', cancelled_at = %(now)s FROM target t
    WHERE b.id = t.id AND t.status IN ('held', 'confirmed')
    RETURNING b.id, b.item_id, b.quantity, b.customer_id, b.currency, t.status AS old_status
), released AS (
    UPDATE bookcore_inventory_items i SET available = i.available + c.quantity
    FROM cancelled c WHERE i.id = c.item_id
), paid AS (
    SELECT c.id, c.customer_id, c.currency, sum(p.wallet_amount + p.gateway_amount) AS amount
    FROM cancelled c JOIN bookcore_payments p ON p.booking_id = c.id AND p.outcome IN {_PAID}
    WHERE c.old_status = 'confirmed' GROUP BY c.id, c.customer_id, c.currency
    HAVING sum(p.wallet_amount + p.gateway_amount) > 0
), refunded AS (
    INSERT INTO bookcore_refunds (id, booking_id, currency, to_wallet, to_gateway, mode, reason, created_at)
    SELECT %(refund)s, id, currency, amount, 0, 'wallet', 'cancellation', %(now)s FROM paid
), credited AS (
    INSERT INTO bookcore_wallet_accounts (customer_id, currency, balance)
    SELECT customer_id, currency, amount FROM paid
    ON CONFLICT (customer_id, currency)
    DO UPDATE SET balance = bookcore_wallet_accounts.balance + excluded.balance
), entry AS (
    INSERT INTO bookcore_wallet_entries
        (id, customer_id, currency, kind, amount, reason, booking_id, created_at)
    SELECT %(entry)s, customer_id, currency, 'credit', amount, 'cancellation refund', id, %(now)s FROM paid)
SELECT count(*) FROM cancelled"""
_PG_EXPIRE = """
WITH expired AS (
    UPDATE bookcore_bookings SET status = 'expired', expired_at = %(now)s
    WHERE status = 'held' AND expires_at <= %(now)s
    RETURNING item_id, quantity
), released AS (
    UPDATE bookcore_inventory_items SET available = available + x.n
    FROM (SELECT item_id, sum(quantity) AS n FROM expired GROUP BY item_id) AS x
    WHERE bookcore_inventory_items.id = x.item_id)
SELECT count(*) FROM expired"""

_SQLITE_HOLD = (
    "UPDATE bookcore_inventory_items SET available = available - ? WHERE id = ? AND available >= ? "
    "RETURNING unit_price, currency, (SELECT balance FROM bookcore_wallet_accounts "
    "WHERE customer_id = ? AND currency = bookcore_inventory_items.currency)")
_SQLITE_INSERT_BOOKING = (f"INSERT INTO bookcore_bookings ({_BOOKING}) "
                          "VALUES (?, ?, ?, ?, 'held', ?, ?, ?, ?, ?, ?, ?)")
_SQLITE_CONFIRM = (
    "UPDATE bookcore_bookings SET status = 'confirmed', confirmed_at = ? WHERE id = ? AND status = 'held' "
    "AND expires_at > ? AND currency = ? AND gateway_payable = ? RETURNING customer_id, wallet_applied")
_SQLITE_DEBIT = ("UPDATE bookcore_wallet_accounts SET balance = balance - ? "
                 "WHERE customer_id = ? AND currency = ? AND balance >= ?")
_SQLITE_ENTRY = ("INSERT INTO bookcore_wallet_entries (id, customer_id, currency, kind, amount, reason, "
                 "booking_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_SQLITE_PAYMENT = ("INSERT INTO bookcore_payments (id, booking_id, idempotency_key, fingerprint, currency, "
                   "wallet_amount, gateway_amount, outcome, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, 'confirmed', ?)")
_SQLITE_LOCKED_BOOKING = (
    "SELECT status, item_id, quantity, currency, (SELECT sum(wallet_amount + gateway_amount) "
    f"FROM bookcore_payments WHERE booking_id = b.id AND outcome IN {_PAID}) FROM bookcore_bookings b "
    "WHERE id = ? AND customer_id = ?")
_SQLITE_CANCEL = "UPDATE bookcore_bookings SET status = 'cancelled', cancelled_at = ? WHERE id = ?"
_SQLITE_RELEASE = "UPDATE bookcore_inventory_items SET available = available + ? WHERE id = ?"
_SQLITE_REFUND = ("INSERT INTO bookcore_refunds (id, booking_id, currency, to_wallet, to_gateway, mode, "
                  "reason, created_at) VALUES (?, ?, ?, ?, 0, 'wallet', 'cancellation', ?)")
_SQLITE_CREDIT = ("INSERT INTO bookcore_wallet_accounts (customer_id, currency, balance) VALUES (?, ?, ?) "
                  "ON CONFLICT (customer_id, currency) DO UPDATE SET balance = balance + excluded.balance")
_SQLITE_EXPIRE = (
    "UPDATE bookcore_inventory_items SET available = available + x.n "
    "FROM (SELECT item_id, sum(quantity) AS n FROM bookcore_bookings "
    "      WHERE status = 'held' AND expires_at <= :now GROUP BY item_id) AS x "
    "WHERE bookcore_inventory_items.id = x.item_id",
    "UPDATE bookcore_bookings SET status = 'expired', expired_at = :now "
    "WHERE status = 'held' AND expires_at <= :now",
)


class BaselineFailed(Exception):
    """The baseline met a state the benchmark never sets up (a bug in the harness)."""


def _new_id() -> str:
    return os.urandom(16).hex()


def raw_client(target: Target) -> PostgresRaw | SqliteRaw:
    return SqliteRaw(target) if target.kind == "sqlite" else PostgresRaw(target)


class PostgresRaw:
    def __init__(self, target: Target) -> None:
        self._target = target
        self._connection = psycopg.connect(target.libpq(), autocommit=True)
        # bookcore's engine runs at READ COMMITTED whatever the server's default.
        self._connection.execute("SET default_transaction_isolation = 'read committed'")

    def close(self) -> None:
        self._connection.close()

    def _run(self, sql: str, params: dict[str, Any]) -> psycopg.Cursor[tuple[Any, ...]]:
        return self._connection.execute(sql, params, prepare=True)

    def hold(self, item: str, customer: str) -> None:
        now = datetime.now(UTC)
        found = self._run(_PG_READ_ITEM, {"customer": customer, "item": item}).fetchone()
        if found is None:
            raise BaselineFailed(f"no item {item}")
        price, currency, balance = found
        pricing, applied = plain_pricing(price, 1, currency, balance or Decimal(0), now)
        written = self._run(_PG_HOLD, {
            "id": _new_id(), "item": item, "customer": customer, "quantity": 1, "price": price,
            "currency": currency, "pricing": pricing, "total": price, "applied": applied,
            "owed": price - applied, "now": self._target.timestamp(now),
            "expires": self._target.timestamp(now + HOLD_TTL)}).rowcount
        if written != 1:
            raise BaselineFailed(f"item {item} is sold out or repriced")

    def finalize(self, booking: str) -> None:
        now = self._target.timestamp(datetime.now(UTC))
        key = f"{booking}-key"
        self._connection.execute("BEGIN")
        try:
            paid = self._run(_PG_FINALIZE, {
                "booking": booking, "now": now, "currency": CURRENCY, "gateway": GATEWAY_PAYABLE,
                "entry": _new_id(), "payment": _new_id(), "key": key,
                "fingerprint": f"{booking}|{CURRENCY}|{GATEWAY_PAYABLE}|"}).rowcount
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT" if paid == 1 else "ROLLBACK")
        if paid != 1:
            raise BaselineFailed(f"booking {booking} could not be paid")

    def cancel(self, booking: str, customer: str) -> None:
        row = self._run(_PG_CANCEL, {"booking": booking, "customer": customer,
                                     "now": self._target.timestamp(datetime.now(UTC)),
                                     "refund": _new_id(), "entry": _new_id()}).fetchone()
        if row is None or row[0] != 1:
            raise BaselineFailed(f"booking {booking} could not be cancelled")

    def expire(self, now: datetime) -> int:
        """Every lapsed hold expired and its unit released, in one statement."""
        row = self._connection.execute(_PG_EXPIRE, {"now": self._target.timestamp(now)}).fetchone()
        return int(row[0]) if row else 0


class SqliteRaw:
    def __init__(self, target: Target) -> None:
        self._target = target
        self._connection = sqlite3.connect(target.sqlite_path(), timeout=SQLITE_BUSY_TIMEOUT_S,
                                           isolation_level=None)
        self._connection.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        self._connection.execute("PRAGMA foreign_keys = ON")
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute(f"PRAGMA synchronous = {target.sqlite_synchronous}")

    def close(self) -> None:
        self._connection.close()

    def _transaction(self) -> sqlite3.Connection:
        self._connection.execute("BEGIN IMMEDIATE")
        return self._connection

    def hold(self, item: str, customer: str) -> None:
        now = datetime.now(UTC)
        db, target = self._transaction(), self._target
        try:
            taken = db.execute(_SQLITE_HOLD, (1, item, 1, customer)).fetchall()
            if not taken:
                raise BaselineFailed(f"item {item} is sold out")
            [(price, currency, balance)] = taken
            pricing, applied = plain_pricing(target.money_from(price), 1, currency,
                                             target.money_from(balance or 0), now)
            stored = target.money(applied)
            db.execute(_SQLITE_INSERT_BOOKING, (
                _new_id(), item, customer, 1, pricing, currency, price, stored, price - stored,
                target.timestamp(now), target.timestamp(now + HOLD_TTL)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def finalize(self, booking: str) -> None:
        now = datetime.now(UTC)
        db, target = self._transaction(), self._target
        at, gateway = target.timestamp(now), target.money(GATEWAY_PAYABLE)
        try:
            confirmed = db.execute(_SQLITE_CONFIRM, (at, booking, at, CURRENCY, gateway)).fetchall()
            if not confirmed:
                raise BaselineFailed(f"booking {booking} cannot be confirmed")
            [(customer, wallet)] = confirmed
            if db.execute(_SQLITE_DEBIT, (wallet, customer, CURRENCY, wallet)).rowcount != 1:
                raise BaselineFailed(f"the wallet of {customer} is short")
            db.execute(_SQLITE_ENTRY, (_new_id(), customer, CURRENCY, "debit", wallet, "booking payment",
                                       booking, at))
            db.execute(_SQLITE_PAYMENT, (_new_id(), booking, f"{booking}-key",
                                         f"{booking}|{CURRENCY}|{GATEWAY_PAYABLE}|", CURRENCY, wallet,
                                         gateway, at))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def cancel(self, booking: str, customer: str) -> None:
        at = self._target.timestamp(datetime.now(UTC))
        db = self._transaction()
        try:
            found = db.execute(_SQLITE_LOCKED_BOOKING, (booking, customer)).fetchone()
            if found is None or found[0] not in ("held", "confirmed"):
                raise BaselineFailed(f"booking {booking} cannot be cancelled")
            status, item, quantity, currency, paid = found
            db.execute(_SQLITE_CANCEL, (at, booking))
            db.execute(_SQLITE_RELEASE, (quantity, item))
            if status == "confirmed" and paid:
                db.execute(_SQLITE_REFUND, (_new_id(), booking, currency, paid, at))
                db.execute(_SQLITE_CREDIT, (customer, currency, paid))
                db.execute(_SQLITE_ENTRY, (_new_id(), customer, currency, "credit", paid,
                                           "cancellation refund", booking, at))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def expire(self, now: datetime) -> int:
        """Every lapsed hold expired and its unit released, in one transaction."""
        when = {"now": self._target.timestamp(now)}
        db = self._transaction()
        try:
            db.execute(_SQLITE_EXPIRE[0], when)
            expired = db.execute(_SQLITE_EXPIRE[1], when).rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return int(expired)
