"""Checking a database against bookcore's invariants. Read-only: safe against production."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bookcore.clock import EARLIEST, Clock, now_from
from bookcore.errors import InvalidInput
from bookcore.model import BookingStatus
from bookcore.money import in_money_context
from bookcore.ports import BookingMoney, GatewayMoney, ItemOccupancy, UnitOfWork, WalletTotal
from bookcore.transactions import read
from bookcore.values import FrozenModel

#: How far past expiry a HELD booking may be before the sweeper is considered behind.
DEFAULT_SWEEP_INTERVAL = timedelta(minutes=5)


class Violation(FrozenModel):
    rule: str
    subject: str
    detail: str


class AuditReport(FrozenModel):
    violations: tuple[Violation, ...]
    items_checked: int
    wallets_checked: int
    bookings_checked: int
    """Every booking in the store: each counts towards its item's capacity or has its money checked."""

    @property
    def ok(self) -> bool:
        return not self.violations


@in_money_context
def audit(uow: UnitOfWork, *, clock: Clock,
          sweep_interval: timedelta = DEFAULT_SWEEP_INTERVAL) -> AuditReport:
    """Every invariant violation in the store, each named by its rule."""
    now = now_from(clock)
    if not isinstance(sweep_interval, timedelta) or not timedelta(0) <= sweep_interval <= now - EARLIEST:
        raise InvalidInput(f"sweep_interval must be a timedelta from 0 to {now - EARLIEST}",
                           field="sweep_interval", value=sweep_interval)
    found: list[Violation] = []

    def query(uow: UnitOfWork) -> tuple[Sequence[ItemOccupancy], Sequence[WalletTotal], int,
                                        Sequence[BookingMoney], int, Sequence[GatewayMoney]]:
        return (uow.audit.item_occupancy(), uow.audit.wallet_totals(), uow.audit.booking_count(),
                uow.audit.booking_money(), uow.audit.holds_lapsed_before(now - sweep_interval),
                uow.audit.gateway_money())

    items, wallets, booking_count, bookings, stale, gateway = read(uow, query)
    for item in items:
        if item.capacity != item.available + item.held_units + item.confirmed_units:
            found.append(Violation(
                rule="capacity_conservation", subject=item.item_id,
                detail=f"capacity {item.capacity} != available {item.available} + held "
                       f"{item.held_units} + confirmed {item.confirmed_units}"))
    for wallet in wallets:
        subject = f"{wallet.customer_id}/{wallet.currency}"
        if wallet.balance != wallet.ledger_sum:
            found.append(Violation(rule="wallet_matches_ledger", subject=subject,
                                   detail=f"balance {wallet.balance} != ledger {wallet.ledger_sum}"))
        if wallet.balance < 0:
            found.append(Violation(rule="wallet_not_negative", subject=subject,
                                   detail=f"balance {wallet.balance}"))
    for money in bookings:
        if money.status is BookingStatus.CONFIRMED and money.paid < money.total_amount:
            found.append(Violation(rule="confirmed_is_paid", subject=money.booking_id,
                                   detail=f"paid {money.paid} < total {money.total_amount}"))
        if money.refunded > money.received or money.cancellation_refunds > 1:
            found.append(Violation(
                rule="no_double_refund", subject=money.booking_id,
                detail=f"refunded {money.refunded} of {money.received} received, "
                       f"{money.cancellation_refunds} cancellation refunds"))
    for placed in gateway:
        if placed.confirmed + placed.credited + placed.owed + placed.refunded != placed.captured:
            found.append(Violation(
                rule="gateway_money_placed", subject=placed.currency,
                detail=f"captured {placed.captured} != confirmed {placed.confirmed} + credited "
                       f"{placed.credited} + owed {placed.owed} + refunded {placed.refunded}"))
    if stale:
        found.append(Violation(rule="holds_swept", subject="bookings",
                               detail=f"{stale} HELD bookings lapsed more than {sweep_interval} ago"))
    return AuditReport(violations=tuple(found), items_checked=len(items),
                       wallets_checked=len(wallets), bookings_checked=booking_count)
