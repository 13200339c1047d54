"""The schema. Migrations create exactly this (tests compare the two); change both together.

Every table's name starts with ``bookcore_``, so bookcore's tables sit beside a host app's own in
one database; bookcore's Alembic history lives in ``bookcore_alembic_version`` (migrate.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, MetaData, Table, Text

from bookcore.adapters.sqlalchemy.column_types import (
    MYSQL_TABLE_OPTIONS,
    Money,
    UTCDateTime,
    currency_code,
    varchar,
)

#: Every constraint and index has a predictable name, so later migrations can drop or alter it by
#: name on every backend (SQLite and MariaDB would otherwise invent their own).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = 64

inventory_items = Table(
    "bookcore_inventory_items", metadata,
    Column("id", varchar(ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("available", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("currency", currency_code(), nullable=False),
    Column("starts_at", UTCDateTime),
    CheckConstraint("available >= 0 AND available <= capacity", name="available_within_capacity"),
    **MYSQL_TABLE_OPTIONS,
)

bookings = Table(
    "bookcore_bookings", metadata,
    Column("id", varchar(ID), primary_key=True),
    Column("item_id", varchar(ID), ForeignKey("bookcore_inventory_items.id"), nullable=False),
    Column("customer_id", varchar(ID), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", varchar(16), nullable=False),
    Column("pricing", Text, nullable=False),  # Pricing.model_dump_json(): the quote, exactly as shown
    Column("promo_code", varchar(64)),
    Column("total_amount", Money, nullable=False),
    Column("wallet_applied", Money, nullable=False),
    Column("gateway_payable", Money, nullable=False),
    Column("currency", currency_code(), nullable=False),
    Column("reserved_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("expired_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("request_fingerprint", Text),  # HoldRequest.fingerprint: what a retry must repeat
    Index(None, "status", "expires_at"),  # the expiry sweep
    Index(None, "item_id", "status", "expires_at"),  # the sweep of one item before a hold
    Index(None, "promo_code", "status"),  # promo usage
    Index(None, "customer_id"),
    **MYSQL_TABLE_OPTIONS,
)

wallet_accounts = Table(
    "bookcore_wallet_accounts", metadata,
    Column("customer_id", varchar(ID), primary_key=True),
    Column("currency", currency_code(), primary_key=True),
    Column("balance", Money, nullable=False),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
    **MYSQL_TABLE_OPTIONS,
)

wallet_entries = Table(
    "bookcore_wallet_entries", metadata,
    # The ledger lists entries in the order they were appended, as the in-memory one does; many
    # share a created_at (one transaction, one clock reading), and random ids are no order at all.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("id", varchar(ID), nullable=False, unique=True),
    Column("customer_id", varchar(ID), nullable=False),
    Column("currency", currency_code(), nullable=False),
    Column("kind", varchar(8), nullable=False),
    Column("amount", Money, nullable=False),
    Column("reason", Text, nullable=False),
    Column("booking_id", varchar(ID)),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "customer_id", "currency"),
    **MYSQL_TABLE_OPTIONS,
)

payments = Table(
    "bookcore_payments", metadata,
    Column("id", varchar(ID), primary_key=True),
    Column("booking_id", varchar(ID), ForeignKey("bookcore_bookings.id"), nullable=False),
    Column("idempotency_key", varchar(128), nullable=False, unique=True),
    Column("fingerprint", Text, nullable=False),
    Column("currency", currency_code(), nullable=False),
    Column("wallet_amount", Money, nullable=False),
    Column("gateway_amount", Money, nullable=False),
    Column("gateway_reference", varchar(ID)),
    Column("outcome", varchar(32), nullable=False),
    Column("reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "booking_id"),
    **MYSQL_TABLE_OPTIONS,
)

refunds = Table(
    "bookcore_refunds", metadata,
    Column("id", varchar(ID), primary_key=True),
    Column("booking_id", varchar(ID), ForeignKey("bookcore_bookings.id"), nullable=False),
    Column("payment_id", varchar(ID)),
    Column("currency", currency_code(), nullable=False),
    Column("to_wallet", Money, nullable=False),
    Column("to_gateway", Money, nullable=False),
    Column("mode", varchar(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("charge_reference", varchar(ID)),  # the gateway reference of the payment it reverses
    Column("executed_at", UTCDateTime),  # when the app executed the gateway part
    Column("refund_reference", varchar(ID)),  # the gateway's reference for that execution
    Index(None, "booking_id"),
    **MYSQL_TABLE_OPTIONS,
)

promo_codes = Table(
    "bookcore_promo_codes", metadata,
    Column("code", varchar(64), primary_key=True),
    Column("definition", Text, nullable=False),  # PromoCode.model_dump_json()
    **MYSQL_TABLE_OPTIONS,
)

events = Table(
    "bookcore_events", metadata,
    # The outbox: every event a service produced, written in its transaction; ``id`` is the
    # position consumers read after.
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("name", varchar(32), nullable=False),
    Column("booking_id", varchar(ID)),
    Column("payload", Text, nullable=False),  # JSON; amounts as strings, datetimes in ISO 8601
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "booking_id"),
    **MYSQL_TABLE_OPTIONS,
)

event_cursors = Table(
    "bookcore_event_cursors", metadata,
    Column("consumer", varchar(ID), primary_key=True),
    Column("position", BigInteger, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)
