"""bookcore inside a host app: the event outbox and its consumers' cursors.

Revision ID: 0002
Revises: 0001

Self-contained, as 0001 is: column types spelled out here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

MYSQL_TABLE_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                                       "mysql_collate": "utf8mb4_bin"}


def varchar(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def timestamp_storage() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookcore_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("name", varchar(32), nullable=False),
        sa.Column("booking_id", varchar(64)),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", timestamp_storage(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bookcore_events"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_bookcore_events_booking_id", "bookcore_events", ["booking_id"])
    op.create_table(
        "bookcore_event_cursors",
        sa.Column("consumer", varchar(64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name="pk_bookcore_event_cursors"),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("bookcore_event_cursors")
    op.drop_index("ix_bookcore_events_booking_id", table_name="bookcore_events")
    op.drop_table("bookcore_events")
