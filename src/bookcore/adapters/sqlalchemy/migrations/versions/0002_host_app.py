"""bookcore beside a host app: every table prefixed ``bookcore_``, PostgreSQL timestamps as
``timestamptz``, and the event outbox with its consumers' cursors.

Revision ID: 0002
Revises: 0001

Self-contained, as 0001 is: the column types are spelled out here. Servers rename in place (no
copy): tables, then the constraints and indexes whose names embed the table's name. SQLite keeps
constraint names inside each table's CREATE statement, so there each table is rebuilt under its
new name and its rows copied. bookcore's revision moved from ``alembic_version`` to
``bookcore_alembic_version`` before this ran (``adopt_legacy_version`` in migrate.py).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
TABLES = ("inventory_items", "bookings", "wallet_accounts", "wallet_entries", "payments", "refunds",
          "promo_codes")
#: (table, old name, new name) of every named constraint (primary key, check, foreign key, unique).
CONSTRAINTS = [
    *((t, f"pk_{t}", f"pk_bookcore_{t}") for t in TABLES),
    ("inventory_items", "ck_inventory_items_available_within_capacity",
     "ck_bookcore_inventory_items_available_within_capacity"),
    ("wallet_accounts", "ck_wallet_accounts_balance_not_negative",
     "ck_bookcore_wallet_accounts_balance_not_negative"),
    ("wallet_entries", "uq_wallet_entries_id", "uq_bookcore_wallet_entries_id"),
    ("payments", "uq_payments_idempotency_key", "uq_bookcore_payments_idempotency_key"),
]
CHECKS = {"ck_inventory_items_available_within_capacity": "available >= 0 AND available <= capacity",
          "ck_wallet_accounts_balance_not_negative": "balance >= 0"}
#: (table, column, parent table, old name, new name)
FOREIGN_KEYS = [
    ("bookings", "item_id", "inventory_items", "fk_bookings_item_id_inventory_items",
     "fk_bookcore_bookings_item_id_bookcore_inventory_items"),
    ("payments", "booking_id", "bookings", "fk_payments_booking_id_bookings",
     "fk_bookcore_payments_booking_id_bookcore_bookings"),
    ("refunds", "booking_id", "bookings", "fk_refunds_booking_id_bookings",
     "fk_bookcore_refunds_booking_id_bookcore_bookings"),
]
#: (table, old name, columns)
INDEXES = [
    ("bookings", "ix_bookings_status_expires_at", ["status", "expires_at"]),
    ("bookings", "ix_bookings_item_id_status_expires_at", ["item_id", "status", "expires_at"]),
    ("bookings", "ix_bookings_promo_code_status", ["promo_code", "status"]),
    ("bookings", "ix_bookings_customer_id", ["customer_id"]),
    ("wallet_entries", "ix_wallet_entries_customer_id_currency", ["customer_id", "currency"]),
    ("payments", "ix_payments_booking_id", ["booking_id"]),
    ("refunds", "ix_refunds_booking_id", ["booking_id"]),
]
TIMESTAMPS = {"inventory_items": ["starts_at"],
              "bookings": ["reserved_at", "expires_at", "confirmed_at", "expired_at", "cancelled_at"],
              "wallet_entries": ["created_at"], "payments": ["created_at"], "refunds": ["created_at"]}


def _varchar(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _utc() -> sa.types.TypeEngine[Any]:
    return (sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
            .with_variant(sa.DateTime(timezone=True), "postgresql"))


def _new_index(old: str) -> str:
    return "ix_bookcore_" + old.removeprefix("ix_")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _rename_on_postgresql()
    elif dialect in ("mysql", "mariadb"):
        _rename_on_mysql()
    else:
        _rebuild_on_sqlite()
    _create_outbox()


def _rename_on_postgresql() -> None:
    for name in TABLES:
        op.rename_table(name, f"bookcore_{name}")
    for name, old, new in CONSTRAINTS:
        op.execute(f"ALTER TABLE bookcore_{name} RENAME CONSTRAINT {old} TO {new}")
    for name, _column, _parent, old, new in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE bookcore_{name} RENAME CONSTRAINT {old} TO {new}")
    for _name, old, _columns in INDEXES:
        op.execute(f"ALTER INDEX {old} RENAME TO {_new_index(old)}")
    op.execute("ALTER SEQUENCE wallet_entries_seq_seq RENAME TO bookcore_wallet_entries_seq_seq")
    # The stored values were naive UTC: read them as UTC, not in the session's time zone.
    for name, columns in TIMESTAMPS.items():
        changes = ", ".join(f"ALTER COLUMN {c} TYPE timestamptz USING {c} AT TIME ZONE 'UTC'"
                            for c in columns)
        op.execute(f"ALTER TABLE bookcore_{name} {changes}")


def _rename_on_mysql() -> None:
    for name, _column, _parent, old, _new in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {name} DROP FOREIGN KEY {old}")
    op.execute("RENAME TABLE " + ", ".join(f"{name} TO bookcore_{name}" for name in TABLES))
    for name, old, new in CONSTRAINTS:
        if old in CHECKS:
            op.execute(f"ALTER TABLE bookcore_{name} DROP CONSTRAINT {old}, "
                       f"ADD CONSTRAINT {new} CHECK ({CHECKS[old]})")
        elif old.startswith("uq_"):
            op.execute(f"ALTER TABLE bookcore_{name} RENAME INDEX {old} TO {new}")
    for name, old, _columns in INDEXES:
        op.execute(f"ALTER TABLE bookcore_{name} RENAME INDEX {old} TO {_new_index(old)}")
    for name, column, parent, _old, new in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE bookcore_{name} ADD CONSTRAINT {new} FOREIGN KEY ({column}) "
                   f"REFERENCES bookcore_{parent} (id)")


def _rebuild_on_sqlite() -> None:
    connection = op.get_bind()
    old = sa.MetaData()
    old.reflect(connection, only=TABLES)
    new = sa.MetaData()
    for name in TABLES:
        source = old.tables[name]
        columns = [sa.Column(c.name, c.type, nullable=c.nullable, primary_key=c.primary_key,
                             autoincrement=c.name == "seq") for c in source.columns]
        sa.Table(f"bookcore_{name}", new, *columns)
    for table in new.tables.values():
        table.append_constraint(sa.PrimaryKeyConstraint(*[c.name for c in table.primary_key.columns],
                                                        name=f"pk_{table.name}"))
    for name, _old_name, new_name in CONSTRAINTS:
        if new_name.startswith("ck_"):
            new.tables[f"bookcore_{name}"].append_constraint(
                sa.CheckConstraint(CHECKS[_old_name], name=new_name))
        elif new_name.startswith("uq_"):
            column = "id" if name == "wallet_entries" else "idempotency_key"
            new.tables[f"bookcore_{name}"].append_constraint(sa.UniqueConstraint(column, name=new_name))
    for name, column, parent, _old_name, new_name in FOREIGN_KEYS:
        new.tables[f"bookcore_{name}"].append_constraint(sa.ForeignKeyConstraint(
            [column], [f"bookcore_{parent}.id"], name=new_name))
    for name in TABLES:  # parents first
        target = new.tables[f"bookcore_{name}"]
        target.create(connection)
        names = [c.name for c in target.columns]
        connection.execute(target.insert().from_select(names, sa.select(*old.tables[name].c)))
    for name in reversed(TABLES):  # children first
        op.drop_table(name)
    for name, old_index, indexed in INDEXES:
        op.create_index(_new_index(old_index), f"bookcore_{name}", indexed)


def _create_outbox() -> None:
    op.create_table(
        "bookcore_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("name", _varchar(32), nullable=False),
        sa.Column("booking_id", _varchar(64), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bookcore_events"),
        **MYSQL,
    )
    op.create_index("ix_bookcore_events_booking_id", "bookcore_events", ["booking_id"])
    op.create_table(
        "bookcore_event_cursors",
        sa.Column("consumer", _varchar(64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name="pk_bookcore_event_cursors"),
        **MYSQL,
    )


def downgrade() -> None:
    raise NotImplementedError("0002 is not reversible: restore the backup taken before upgrading")
