"""Captured money and hold retries: a refund names the payment and gateway reference it reverses
and records its execution at the gateway; a booking stores the hold request it was made for.

Revision ID: 0003
Revises: 0002

Self-contained, as 0001 and 0002 are. Every new column is nullable, so servers and SQLite add them
in place. Cancellation refunds written before this revision named no payment: they are given the
booking's confirming payment and its gateway reference. Gateway refunds written before it have no
record of being executed, so they are listed as owed until ops mark them executed.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PAID = "('confirmed', 'confirmed_late')"


def _varchar(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _utc() -> sa.types.TypeEngine[Any]:
    return (sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
            .with_variant(sa.DateTime(timezone=True), "postgresql"))


def upgrade() -> None:
    op.add_column("bookcore_refunds", sa.Column("charge_reference", _varchar(64), nullable=True))
    op.add_column("bookcore_refunds", sa.Column("executed_at", _utc(), nullable=True))
    op.add_column("bookcore_refunds", sa.Column("refund_reference", _varchar(64), nullable=True))
    op.add_column("bookcore_bookings", sa.Column("request_fingerprint", sa.Text(), nullable=True))
    op.execute(f"""
        UPDATE bookcore_refunds SET payment_id = (
            SELECT MIN(p.id) FROM bookcore_payments p
            WHERE p.booking_id = bookcore_refunds.booking_id AND p.outcome IN {PAID})
        WHERE payment_id IS NULL AND reason = 'cancellation'""")
    op.execute("""
        UPDATE bookcore_refunds SET charge_reference = (
            SELECT p.gateway_reference FROM bookcore_payments p
            WHERE p.id = bookcore_refunds.payment_id)
        WHERE payment_id IS NOT NULL""")


def downgrade() -> None:
    raise NotImplementedError("0003 is not reversible: restore the backup taken before upgrading")
