"""The initial schema: inventory, bookings, wallets, payments, refunds, promo codes.

Revision ID: 0001
Revises: (none)

Self-contained on purpose: the column types are spelled out here, not imported from tables.py,
so editing tables.py later can never change what this revision created.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def _varchar(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _id() -> sa.types.TypeEngine[str]:
    return _varchar(64)


def _currency() -> sa.types.TypeEngine[str]:
    return sa.CHAR(3).with_variant(sa.CHAR(3, collation="C"), "postgresql")


def _money() -> sa.types.TypeEngine[Any]:
    # SQLite: whole thousandths in an INTEGER (its NUMERIC is a float).
    return sa.Numeric(20, 3).with_variant(sa.BigInteger(), "sqlite")


def _utc() -> sa.types.TypeEngine[Any]:
    # Naive UTC; MySQL/MariaDB keep microseconds only with fsp=6.
    return sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "inventory_items",
        sa.Column("id", _id(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("unit_price", _money(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("starts_at", _utc(), nullable=True),
        sa.CheckConstraint("available >= 0 AND available <= capacity",
                           name=op.f("ck_inventory_items_available_within_capacity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_items")),
        **MYSQL,
    )
    op.create_table(
        "bookings",
        sa.Column("id", _id(), nullable=False),
        sa.Column("item_id", _id(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", _varchar(16), nullable=False),
        sa.Column("pricing", sa.Text(), nullable=False),
        sa.Column("promo_code", _varchar(64), nullable=True),
        sa.Column("total_amount", _money(), nullable=False),
        sa.Column("wallet_applied", _money(), nullable=False),
        sa.Column("gateway_payable", _money(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("reserved_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("confirmed_at", _utc(), nullable=True),
        sa.Column("expired_at", _utc(), nullable=True),
        sa.Column("cancelled_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["inventory_items.id"],
                                name=op.f("fk_bookings_item_id_inventory_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        **MYSQL,
    )
    op.create_index(op.f("ix_bookings_status_expires_at"), "bookings", ["status", "expires_at"])
    op.create_index(op.f("ix_bookings_item_id_status_expires_at"), "bookings",
                    ["item_id", "status", "expires_at"])
    op.create_index(op.f("ix_bookings_promo_code_status"), "bookings", ["promo_code", "status"])
    op.create_index(op.f("ix_bookings_customer_id"), "bookings", ["customer_id"])
    op.create_table(
        "wallet_accounts",
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("balance", _money(), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_wallet_accounts_balance_not_negative")),
        sa.PrimaryKeyConstraint("customer_id", "currency", name=op.f("pk_wallet_accounts")),
        **MYSQL,
    )
    op.create_table(
        "wallet_entries",
        # SQLite only auto-numbers a column declared exactly INTEGER PRIMARY KEY.
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("id", _id(), nullable=False),
        sa.Column("customer_id", _id(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("kind", _varchar(8), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("booking_id", _id(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_wallet_entries")),
        sa.UniqueConstraint("id", name=op.f("uq_wallet_entries_id")),
        **MYSQL,
    )
    op.create_index(op.f("ix_wallet_entries_customer_id_currency"), "wallet_entries",
                    ["customer_id", "currency"])
    op.create_table(
        "payments",
        sa.Column("id", _id(), nullable=False),
        sa.Column("booking_id", _id(), nullable=False),
        sa.Column("idempotency_key", _varchar(128), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("wallet_amount", _money(), nullable=False),
        sa.Column("gateway_amount", _money(), nullable=False),
        sa.Column("gateway_reference", _id(), nullable=True),
        sa.Column("outcome", _varchar(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"],
                                name=op.f("fk_payments_booking_id_bookings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
        **MYSQL,
    )
    op.create_index(op.f("ix_payments_booking_id"), "payments", ["booking_id"])
    op.create_table(
        "refunds",
        sa.Column("id", _id(), nullable=False),
        sa.Column("booking_id", _id(), nullable=False),
        sa.Column("payment_id", _id(), nullable=True),
        sa.Column("currency", _currency(), nullable=False),
        sa.Column("to_wallet", _money(), nullable=False),
        sa.Column("to_gateway", _money(), nullable=False),
        sa.Column("mode", _varchar(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["bookings.id"],
                                name=op.f("fk_refunds_booking_id_bookings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        **MYSQL,
    )
    op.create_index(op.f("ix_refunds_booking_id"), "refunds", ["booking_id"])
    op.create_table(
        "promo_codes",
        sa.Column("code", _varchar(64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_promo_codes")),
        **MYSQL,
    )


def downgrade() -> None:
    for table in ("promo_codes", "refunds", "payments", "wallet_entries", "wallet_accounts",
                  "bookings", "inventory_items"):
        op.drop_table(table)
