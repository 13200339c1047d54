"""Inventory, wallet, payment, refund and promo repositories, in SQLAlchemy Core: every change is
one conditional statement whose row count says whether it happened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Executable,
    Integer,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite

from bookcore.adapters.sqlalchemy import rows
from bookcore.adapters.sqlalchemy.prepared import Prepared
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
from bookcore.ports import ItemForCustomer
from bookcore.promos import PromoCode

#: Items per UPDATE in ``release_many``: two bind parameters each, far below any driver's limit.
RELEASE_CHUNK = 200

# Hot-path statements are built once with bind parameters and run as ``Prepared`` statements:
# compiled once per dialect, executed on the transaction's cursor (see prepared.py for why).
_ITEM = Prepared(select(inventory_items).where(inventory_items.c.id == bindparam("item_id")))
_ITEM_FOR_CUSTOMER = Prepared(
    select(inventory_items.c.unit_price, inventory_items.c.currency,
           wallet_accounts.c.balance.label("wallet_balance"))
    .select_from(inventory_items.outerjoin(wallet_accounts, and_(
        wallet_accounts.c.customer_id == bindparam("customer_id"),
        wallet_accounts.c.currency == inventory_items.c.currency)))
    .where(inventory_items.c.id == bindparam("item_id")))
_TAKE = Prepared(update(inventory_items)
         .where(inventory_items.c.id == bindparam("item_id"),
                inventory_items.c.available >= bindparam("quantity"))
         .values(available=inventory_items.c.available - bindparam("quantity")))
_TAKE_AT_PRICE = Prepared(update(inventory_items)
                  .where(inventory_items.c.id == bindparam("item_id"),
                         inventory_items.c.available >= bindparam("quantity"),
                         inventory_items.c.unit_price == bindparam("seen_price"),
                         inventory_items.c.currency == bindparam("seen_currency"))
                  .values(available=inventory_items.c.available - bindparam("quantity")))
# A hold's read and write in one statement, where the dialect has UPDATE ... RETURNING. The wallet
# subquery names the item's currency literally: SQLite renders RETURNING columns unqualified, and
# an unqualified ``currency`` inside the subquery would be the wallet's own.
_TAKE_FOR_CUSTOMER = Prepared(
    update(inventory_items)
    .where(inventory_items.c.id == bindparam("item_id"),
           inventory_items.c.available >= bindparam("quantity"))
    .values(available=inventory_items.c.available - bindparam("quantity"))
    .returning(inventory_items.c.unit_price, inventory_items.c.currency,
               select(wallet_accounts.c.balance)
               .where(wallet_accounts.c.customer_id == bindparam("customer_id"),
                      wallet_accounts.c.currency == literal_column("inventory_items.currency"))
               .scalar_subquery().label("wallet_balance")))
_RELEASE = Prepared(update(inventory_items)
            .where(inventory_items.c.id == bindparam("item_id"),
                   inventory_items.c.available + bindparam("quantity") <= inventory_items.c.capacity)
            .values(available=inventory_items.c.available + bindparam("quantity")))
# PostgreSQL: every item of a sweep batch in one statement with two array parameters, so its text
# never changes (prepared once; chunks of ids each compiled a new CASE statement).
_RELEASED = func.unnest(bindparam("release_ids", type_=postgresql.ARRAY(Text)),
                        bindparam("release_units", type_=postgresql.ARRAY(Integer))) \
    .table_valued("id", "units").render_derived(name="released")
_RELEASE_EACH = Prepared(update(inventory_items)
                         .where(inventory_items.c.id == _RELEASED.c.id,
                                inventory_items.c.available + _RELEASED.c.units <= inventory_items.c.capacity)
                         .values(available=inventory_items.c.available + _RELEASED.c.units))
# UPDATE reserves bind names equal to column names, hence the prefixes.
_ACCOUNT = and_(wallet_accounts.c.customer_id == bindparam("account_customer"),
                wallet_accounts.c.currency == bindparam("account_currency"))
_BALANCE = Prepared(select(wallet_accounts.c.balance).where(_ACCOUNT))
_MOVE_BALANCE = (update(wallet_accounts)
                 .where(_ACCOUNT, wallet_accounts.c.balance + bindparam("delta") >= 0)
                 .values(balance=wallet_accounts.c.balance + bindparam("delta")))
_MOVE = Prepared(_MOVE_BALANCE)
_INSERT_ENTRY = Prepared(insert(wallet_entries))
_ENTRY_COLUMNS = ("id", "customer_id", "currency", "kind", "amount", "reason", "booking_id", "created_at")
# The balance move and its ledger line in one statement, where the database takes data-modifying
# WITH (PostgreSQL): the line is inserted from the UPDATE's RETURNING, so it exists exactly when
# the balance moved, and a payment spends one round trip fewer. Its binds are prefixed: a plan's
# parameter names are also the column keys of the UPDATE inside, which would SET any it matched.
_MOVE_AND_RECORD = Prepared(insert(wallet_entries).from_select(
    _ENTRY_COLUMNS,
    select(*(bindparam(f"entry_{name}", type_=wallet_entries.c[name].type) for name in _ENTRY_COLUMNS))
    .select_from(_MOVE_BALANCE.returning(wallet_accounts.c.customer_id).cte("moved"))))
_INSERT_PAYMENT = Prepared(insert(payments))
_INSERT_REFUND = Prepared(insert(refunds))
_PAYMENT_BY_KEY = Prepared(select(payments).where(payments.c.idempotency_key == bindparam("key")))


def _item_for_customer(row: Mapping[str, Any]) -> ItemForCustomer:
    currency, balance = row["currency"], row["wallet_balance"]
    return ItemForCustomer(quantize(row["unit_price"], currency), currency,
                           ZERO if balance is None else quantize(balance, currency))


class SqlInventoryRepository:
    def __init__(self, db: Runner) -> None:
        self._db = db
        self.takes_row_locks = db.dialect_name != "sqlite"

    def add(self, item: InventoryItem) -> None:
        try:
            self._db.run(insert(inventory_items), item.model_dump())
        except AlreadyExists as error:
            raise AlreadyExists("an inventory item with this id exists", item_id=item.id) from error

    def get(self, item_id: str) -> InventoryItem | None:
        row = self._db.run(_ITEM, {"item_id": item_id}).mappings().first()
        return rows.item_from(row) if row else None

    def get_for_customer(self, item_id: str, customer_id: str) -> ItemForCustomer | None:
        row = self._db.run(_ITEM_FOR_CUSTOMER, {"item_id": item_id, "customer_id": customer_id}
                           ).mappings().first()
        return None if row is None else _item_for_customer(row)

    def take(self, item_id: str, quantity: int) -> bool:
        result = self._db.run(_TAKE, {"item_id": item_id, "quantity": quantity})
        return bool(result.rowcount == 1)

    def take_at_price(self, item_id: str, quantity: int, unit_price: Decimal, currency: str) -> bool:
        result = self._db.run(_TAKE_AT_PRICE, {"item_id": item_id, "quantity": quantity,
                                               "seen_price": unit_price, "seen_currency": currency})
        return bool(result.rowcount == 1)

    def take_for_customer(self, item_id: str, customer_id: str, quantity: int) -> ItemForCustomer | None:
        if not self._db.update_returning:  # MariaDB/MySQL: the UPDATE's row lock keeps the read true
            return self.get_for_customer(item_id, customer_id) if self.take(item_id, quantity) else None
        row = self._db.run(_TAKE_FOR_CUSTOMER, {"item_id": item_id, "customer_id": customer_id,
                                                "quantity": quantity}).mappings().first()
        return None if row is None else _item_for_customer(row)

    def release(self, item_id: str, quantity: int) -> None:
        result = self._db.run(_RELEASE, {"item_id": item_id, "quantity": quantity})
        if result.rowcount != 1:
            raise StorageError("release would exceed capacity", item_id=item_id, quantity=quantity)

    def release_many(self, units: Mapping[str, int]) -> None:
        # One UPDATE per chunk of items instead of one per item: a sweep batch spans hundreds of
        # items, and a round trip each was most of its time on a server. Ids go in sorted, as
        # everywhere else. PostgreSQL takes the whole batch as two arrays in one prepared
        # statement; elsewhere chunks keep the statement under every driver's parameter limit.
        ordered = sorted(units)
        size = len(ordered) if self._db.dialect_name == "postgresql" else RELEASE_CHUNK
        for start in range(0, len(ordered), size):
            chunk = ordered[start:start + size]
            if len(chunk) == 1:
                self.release(chunk[0], units[chunk[0]])
                continue
            result = self._db.run(*self._release_chunk(chunk, units))
            if result.rowcount != len(chunk):
                raise StorageError("release would exceed capacity (or an item is missing)",
                                   items=len(chunk), released=result.rowcount)

    def _release_chunk(self, chunk: list[str], units: Mapping[str, int]
                       ) -> tuple[Executable | Prepared, dict[str, Any] | None]:
        if self._db.dialect_name == "postgresql":
            return _RELEASE_EACH, {"release_ids": chunk, "release_units": [units[item] for item in chunk]}
        returned = case({item_id: units[item_id] for item_id in chunk}, value=inventory_items.c.id)
        return (update(inventory_items)
                .where(inventory_items.c.id.in_(chunk),
                       inventory_items.c.available + returned <= inventory_items.c.capacity)
                .values(available=inventory_items.c.available + returned)), None

    def list(self) -> Sequence[InventoryItem]:
        result = self._db.run(select(inventory_items).order_by(inventory_items.c.id)).mappings()
        return [rows.item_from(row) for row in result]


def insert_if_absent(dialect_name: str, table: Table, values: dict[str, Any]) -> Executable:
    """INSERT that does nothing when the primary key exists, in each dialect's spelling.

    MySQL/MariaDB: a no-op ON DUPLICATE KEY UPDATE rather than INSERT IGNORE, which would also
    turn other errors (a too-long value) into warnings, and whose shared lock on the existing row
    deadlocks when two transactions then both update it.
    """
    if dialect_name == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_nothing()
    if dialect_name == "sqlite":
        return sqlite.insert(table).values(values).on_conflict_do_nothing()
    if dialect_name in ("mysql", "mariadb"):
        first_key = table.primary_key.columns.values()[0]
        return mysql.insert(table).values(values).on_duplicate_key_update({first_key.name: first_key})
    raise StorageError("unsupported database", dialect=dialect_name)  # pragma: no cover


class SqlWalletRepository:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def balance(self, customer_id: str, currency: str) -> Decimal:
        value = self._db.run(_BALANCE, {"account_customer": customer_id,
                                        "account_currency": currency}).scalar()
        return ZERO if value is None else quantize(value, currency)

    def _move_and_record(self, entry: WalletEntry) -> bool:
        """Move the balance and write the ledger line, or do neither (the balance would go below 0,
        or the account does not exist)."""
        move = {"account_customer": entry.customer_id, "account_currency": entry.currency,
                "delta": entry.signed_amount}
        if self._db.writes_in_ctes:
            values = {f"entry_{name}": value for name, value in rows.entry_values(entry).items()}
            return bool(self._db.run(_MOVE_AND_RECORD, {**move, **values}).rowcount == 1)
        if self._db.run(_MOVE, move).rowcount != 1:
            return False
        self._db.run(_INSERT_ENTRY, rows.entry_values(entry))
        return True

    def append(self, entry: WalletEntry) -> bool:
        # The common case, an existing account, is one or two statements; a new one is created on
        # the first credit (a debit can never succeed on an account that does not exist yet).
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
            self._db.run(_INSERT_PAYMENT, rows.payment_values(payment))
        except AlreadyExists as error:  # ids are fresh uuids: the key is what collided
            raise IdempotencyConflict("idempotency key already used",
                                      idempotency_key=payment.idempotency_key) from error

    def get_by_key(self, idempotency_key: str) -> Payment | None:
        row = self._db.run(_PAYMENT_BY_KEY, {"key": idempotency_key}).mappings().first()
        return rows.payment_from(row) if row else None

    def for_booking(self, booking_id: str) -> Sequence[Payment]:
        query = (select(payments).where(payments.c.booking_id == booking_id)
                 .order_by(payments.c.created_at, payments.c.id))
        return [rows.payment_from(row) for row in self._db.run(query).mappings()]


class SqlRefundRepository:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def add(self, refund: Refund) -> None:
        self._db.run(_INSERT_REFUND, rows.refund_values(refund))

    def for_booking(self, booking_id: str) -> Sequence[Refund]:
        query = (select(refunds).where(refunds.c.booking_id == booking_id)
                 .order_by(refunds.c.created_at, refunds.c.id))
        return [rows.refund_from(row) for row in self._db.run(query).mappings()]


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
