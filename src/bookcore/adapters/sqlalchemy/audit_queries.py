"""The audit's aggregates as set-based SQL: one query per invariant family, however many rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, type_coerce, union_all

from bookcore.adapters.sqlalchemy.column_types import Money
from bookcore.adapters.sqlalchemy.runner import Runner
from bookcore.adapters.sqlalchemy.tables import (
    bookings,
    inventory_items,
    payments,
    refunds,
    wallet_accounts,
    wallet_entries,
)
from bookcore.model import PAID_OUTCOMES, BookingStatus, WalletEntryKind
from bookcore.money import ZERO, quantize
from bookcore.ports import BookingMoney, GatewayMoney, ItemOccupancy, WalletTotal


def _money(expression: Any) -> Any:
    """An expression read back as money (exact on every backend, see column_types.Money)."""
    return type_coerce(expression, Money())


def _units(status: BookingStatus) -> Any:
    return func.coalesce(func.sum(case((bookings.c.status == status.value, bookings.c.quantity),
                                       else_=0)), 0)


def _amount(value: Decimal | None, currency: str) -> Decimal:
    return quantize(ZERO if value is None else value, currency)


class SqlAuditQueries:
    def __init__(self, db: Runner) -> None:
        self._db = db

    def item_occupancy(self) -> Sequence[ItemOccupancy]:
        units = (select(bookings.c.item_id, _units(BookingStatus.HELD).label("held"),
                        _units(BookingStatus.CONFIRMED).label("confirmed"))
                 .group_by(bookings.c.item_id).subquery())
        query = (select(inventory_items.c.id, inventory_items.c.capacity, inventory_items.c.available,
                        func.coalesce(units.c.held, 0), func.coalesce(units.c.confirmed, 0))
                 .outerjoin(units, units.c.item_id == inventory_items.c.id)
                 .order_by(inventory_items.c.id))
        return [ItemOccupancy(row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4]))
                for row in self._db.run(query)]

    def wallet_totals(self) -> Sequence[WalletTotal]:
        amount = wallet_entries.c.amount
        signed = case((wallet_entries.c.kind == WalletEntryKind.DEBIT.value, -amount), else_=amount)
        sums = (select(wallet_entries.c.customer_id, wallet_entries.c.currency,
                       _money(func.sum(signed)).label("ledger"))
                .group_by(wallet_entries.c.customer_id, wallet_entries.c.currency).subquery())
        query = (select(wallet_accounts.c.customer_id, wallet_accounts.c.currency,
                        wallet_accounts.c.balance, sums.c.ledger)
                 .outerjoin(sums, and_(sums.c.customer_id == wallet_accounts.c.customer_id,
                                       sums.c.currency == wallet_accounts.c.currency))
                 .order_by(wallet_accounts.c.customer_id, wallet_accounts.c.currency))
        return [WalletTotal(row[0], row[1], _amount(row[2], row[1]), _amount(row[3], row[1]))
                for row in self._db.run(query)]

    def booking_count(self) -> int:
        return int(self._db.run(select(func.count()).select_from(bookings)).scalar_one())

    def booking_money(self) -> Sequence[BookingMoney]:
        received = _money(payments.c.wallet_amount + payments.c.gateway_amount)
        paid_outcomes = [outcome.value for outcome in PAID_OUTCOMES]
        zero = literal(ZERO, Money())
        money = union_all(
            select(payments.c.booking_id.label("booking_id"),
                   _money(case((payments.c.outcome.in_(paid_outcomes), received), else_=zero)).label("paid"),
                   received.label("received"), zero.label("refunded"),
                   literal(0).label("cancellations")),
            select(refunds.c.booking_id, zero, zero,
                   _money(refunds.c.to_wallet + refunds.c.to_gateway),
                   case((refunds.c.reason == "cancellation", 1), else_=0)),
        ).subquery()
        totals = (select(money.c.booking_id, _money(func.sum(money.c.paid)).label("paid"),
                         _money(func.sum(money.c.received)).label("received"),
                         _money(func.sum(money.c.refunded)).label("refunded"),
                         func.sum(money.c.cancellations).label("cancellations"))
                  .group_by(money.c.booking_id).subquery())
        query = (select(bookings.c.id, bookings.c.status, bookings.c.currency, bookings.c.total_amount,
                        totals.c.paid, totals.c.received, totals.c.refunded, totals.c.cancellations)
                 .outerjoin(totals, totals.c.booking_id == bookings.c.id)
                 .where(or_(bookings.c.status == BookingStatus.CONFIRMED.value,
                            totals.c.booking_id.is_not(None)))
                 .order_by(bookings.c.id))
        return [BookingMoney(row[0], BookingStatus(row[1]), _amount(row[3], row[2]),
                             _amount(row[4], row[2]), _amount(row[5], row[2]),
                             _amount(row[6], row[2]), int(row[7] or 0))
                for row in self._db.run(query)]

    def holds_lapsed_before(self, moment: datetime) -> int:
        return int(self._db.run(select(func.count()).where(
            bookings.c.status == BookingStatus.HELD.value, bookings.c.expires_at < moment)).scalar_one())

    def gateway_money(self) -> Sequence[GatewayMoney]:
        paid_outcomes = [outcome.value for outcome in PAID_OUTCOMES]
        zero = literal(ZERO, Money())
        executed = refunds.c.executed_at.is_not(None)
        money = union_all(
            select(payments.c.currency.label("currency"), payments.c.gateway_amount.label("captured"),
                   _money(case((payments.c.outcome.in_(paid_outcomes), payments.c.gateway_amount),
                               else_=zero)).label("confirmed"),
                   zero.label("credited"), zero.label("owed"), zero.label("refunded")),
            # Refunds of payments that could not pay: a cancellation's refunds a paid one.
            select(refunds.c.currency, zero, zero, refunds.c.to_wallet,
                   _money(case((executed, zero), else_=refunds.c.to_gateway)),
                   _money(case((executed, refunds.c.to_gateway), else_=zero)))
            .join(payments, payments.c.id == refunds.c.payment_id)
            .where(payments.c.outcome.not_in(paid_outcomes)),
        ).subquery()
        query = (select(money.c.currency, *(_money(func.sum(money.c[name])) for name in (
                     "captured", "confirmed", "credited", "owed", "refunded")))
                 .group_by(money.c.currency).order_by(money.c.currency))
        return [GatewayMoney(row[0], *(_amount(value, row[0]) for value in row[1:]))
                for row in self._db.run(query)]
