"""Inventory, wallet, payment, refund and promo repositories, in SQLAlchemy Core: every change is
one conditional statement whose row count says whether it happened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Executable, Table, and_, bindparam, insert, select, update

from bookcore.adapters.sqlalchemy import rows
from bookcore.adapters.sqlalchemy.runner import Runner
from bookcore.adapters.sqlalchemy.tables import (
    inventory_items,
    payments,
    promo_codes,
    refunds,
    wallet_accounts,
    wallet_entries,
)
from bookcore.errors import AlreadyExists, IdempotencyConflict, StorageError
from bookcore.model import InventoryItem, Payment, Refund, WalletEntry
from bookcore.money import ZERO, quantize
from bookcore.promos import PromoCode

_TAKE = (update(inventory_items)
         .where(inventory_items.c.id == bindparam("item_id"),
                inventory_items.c.available >= bindparam("quantity"))
         .values(available=inventory_items.c.available - bindparam("quantity")))
# Never above capacity: a release that would overshoot matches no row, and the caller rolls back.
_RELEASE = (update(inventory_items)
            .where(inventory_items.c.id == bindparam("item_id"),
                   inventory_items.c.available + bindparam("quantity") <= inventory_items.c.capacity)
            .values(available=inventory_items.c.available + bindparam("quantity")))
# UPDATE reserves bind names equal to column names, hence the prefixes.
_ACCOUNT = and_(wallet_accounts.c.customer_id == bindparam("account_customer"),
                wallet_accounts.c.currency == bindparam("account_currency"))
_MOVE_BALANCE = (update(wallet_accounts)
                 .where(_ACCOUNT, wallet_accounts.c.balance + bindparam("delta") >= 0)
                 .values(balance=wallet_accounts.c.balance + bindparam("delta")))


class SqlInventoryRepository:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def add(self, item: InventoryItem) -> None:
        try:
            self._db.run(insert(inventory_items), item.model_dump())
        except AlreadyExists as error:
            raise AlreadyExists("an inventory item with this id exists", item_id=item.id) from error

    def get(self, item_id: str) -> InventoryItem | None:
        row = self._db.run(select(inventory_items).where(inventory_items.c.id == item_id)).mappings().first()
        return rows.item_from(row) if row else None

    def take(self, item_id: str, quantity: int) -> bool:
        return self._db.run(_TAKE, {"item_id": item_id, "quantity": quantity}).rowcount == 1

    def release(self, units: Mapping[str, int]) -> None:
        if not units:
            return
        # One executemany in id order: the items are locked in that order whatever plan the
        # database picks, which is what keeps concurrent sweepers and cancellers deadlock-free.
        result = self._db.run(_RELEASE, [{"item_id": item_id, "quantity": units[item_id]}
                                         for item_id in sorted(units)])
        if result.rowcount != len(units):
            raise StorageError("release would exceed capacity (or an item is missing)",
                               items=len(units), released=result.rowcount)

    def list(self) -> Sequence[InventoryItem]:
        result = self._db.run(select(inventory_items).order_by(inventory_items.c.id)).mappings()
        return [rows.item_from(row) for row in result]


def insert_if_absent(dialect_name: str, table: Table, values: dict[str, Any]) -> Executable:
    """INSERT that does nothing when the primary key exists, in each dialect's spelling.

    MySQL/MariaDB: a no-op ON DUPLICATE KEY UPDATE rather than INSERT IGNORE, which would also
    turn other errors (a too-long value) into warnings, and whose shared lock on the existing row
    deadlocks when two transactions then both update it.
    """
    # Each import names the dialect in use, already loaded by its engine; the others never load.
    if dialect_name in ("postgresql", "cockroachdb"):
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table).values(values).on_conflict_do_nothing()
    if dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).values(values).on_conflict_do_nothing()
    if dialect_name in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        first_key = table.primary_key.columns.values()[0]
        return mysql_insert(table).values(values).on_duplicate_key_update({first_key.name: first_key})
    raise StorageError("unsupported database", dialect=dialect_name)  # pragma: no cover


class SqlWalletRepository:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def balance(self, customer_id: str, currency: str, *, for_update: bool = False) -> Decimal:
        query = select(wallet_accounts.c.balance).where(wallet_accounts.c.customer_id == customer_id,
                                                        wallet_accounts.c.currency == currency)
        value = self._db.run(query.with_for_update() if for_update else query).scalar()
        return ZERO if value is None else quantize(value, currency)

    def _move_and_record(self, entry: WalletEntry) -> bool:
        """Move the balance and write the ledger line, or do neither (the balance would go below 0,
        or the account does not exist)."""
        moved = self._db.run(_MOVE_BALANCE, {"account_customer": entry.customer_id,
                                             "account_currency": entry.currency,
                                             "delta": entry.signed_amount})
        if moved.rowcount != 1:
            return False
        self._db.run(insert(wallet_entries), rows.entry_values(entry))
        return True

    def append(self, entry: WalletEntry) -> bool:
        # An existing account is the common case; a new one is created on the first credit (a
        # debit can never succeed on an account that does not exist yet).
        if self._move_and_record(entry):
            return True
        if entry.signed_amount < 0:
            return False
        self._db.run(insert_if_absent(self._db.dialect_name, wallet_accounts, {
            "customer_id": entry.customer_id, "currency": entry.currency, "balance": ZERO}))
        if not self._move_and_record(entry):  # pragma: no cover - the row exists and the delta is >= 0
            raise StorageError("wallet account could not be credited", customer_id=entry.customer_id)
        return True

    def entries(self, customer_id: str, currency: str) -> Sequence[WalletEntry]:
        query = (select(wallet_entries).where(wallet_entries.c.customer_id == customer_id,
                                              wallet_entries.c.currency == currency)
                 .order_by(wallet_entries.c.seq))
        return [rows.entry_from(row) for row in self._db.run(query).mappings()]


class SqlPaymentRepository:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def add(self, payment: Payment) -> None:
        try:
            self._db.run(insert(payments), rows.payment_values(payment))
        except AlreadyExists as error:  # ids are fresh uuids: the key is what collided
            raise IdempotencyConflict("idempotency key already used",
                                      idempotency_key=payment.idempotency_key) from error

    def get_by_key(self, idempotency_key: str) -> Payment | None:
        row = self._db.run(select(payments).where(payments.c.idempotency_key == idempotency_key)
                           ).mappings().first()
        return rows.payment_from(row) if row else None

    def for_booking(self, booking_id: str) -> Sequence[Payment]:
        query = (select(payments).where(payments.c.booking_id == booking_id)
                 .order_by(payments.c.created_at, payments.c.id))
        return [rows.payment_from(row) for row in self._db.run(query).mappings()]


class SqlRefundRepository:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def add(self, refund: Refund) -> None:
        self._db.run(insert(refunds), rows.refund_values(refund))

    def get(self, refund_id: str, *, for_update: bool = False) -> Refund | None:
        query = select(refunds).where(refunds.c.id == refund_id)
        row = self._db.run(query.with_for_update() if for_update else query).mappings().first()
        return rows.refund_from(row) if row else None

    def for_booking(self, booking_id: str) -> Sequence[Refund]:
        query = (select(refunds).where(refunds.c.booking_id == booking_id)
                 .order_by(refunds.c.created_at, refunds.c.id))
        return [rows.refund_from(row) for row in self._db.run(query).mappings()]

    def owed(self) -> Sequence[Refund]:
        query = (select(refunds).where(refunds.c.to_gateway > ZERO, refunds.c.executed_at.is_(None))
                 .order_by(refunds.c.created_at, refunds.c.id))
        return [rows.refund_from(row) for row in self._db.run(query).mappings()]

    def mark_executed(self, refund_id: str, refund_reference: str, executed_at: datetime) -> bool:
        return self._db.run(update(refunds)
                            .where(refunds.c.id == refund_id, refunds.c.executed_at.is_(None))
                            .values(executed_at=executed_at, refund_reference=refund_reference)
                            ).rowcount == 1


class SqlPromoRepository:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def add(self, promo: PromoCode) -> None:
        try:
            self._db.run(insert(promo_codes).values(code=promo.code, definition=promo.model_dump_json()))
        except AlreadyExists as error:
            raise AlreadyExists("a promo code with this code exists", code=promo.code) from error

    def get(self, code: str, *, for_update: bool = False) -> PromoCode | None:
        query = select(promo_codes.c.definition).where(promo_codes.c.code == code)
        if for_update:
            query = query.with_for_update()
        definition = self._db.run(query).scalar()
        return rows.promo_from(definition) if definition else None
