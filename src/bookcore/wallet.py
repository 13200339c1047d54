"""The customer wallet: an append-only ledger whose balance can never go below zero."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from bookcore.clock import Clock, now_from
from bookcore.errors import InsufficientWalletBalance, InvalidAmount, InvalidInput
from bookcore.logs import Event, event
from bookcore.model import WalletEntry, WalletEntryKind, check_id, new_id
from bookcore.money import MAX_AMOUNT, check_currency, in_money_context, parse_amount
from bookcore.ports import UnitOfWork
from bookcore.transactions import in_transaction, read
from bookcore.values import check_text

MAX_REASON_LENGTH = 200


def _check_reason(reason: object) -> str:
    """A ledger line's reason must be words; ``_entry`` keeps its first ``MAX_REASON_LENGTH``."""
    text = check_text(reason, field="reason")
    if not text.strip():
        raise InvalidInput("reason must not be blank", field="reason", value=reason)
    return text


def _entry(kind: WalletEntryKind, *, customer_id: str, currency: str, amount: Decimal, reason: str,
           booking_id: str | None, now: datetime) -> WalletEntry:
    # Callers inside bookcore pass checked ids, amounts and an aware ``now``; the public
    # functions below check what their callers give them first.
    return WalletEntry.trusted(id=new_id(), customer_id=customer_id, currency=currency, kind=kind,
                               amount=amount, reason=reason[:MAX_REASON_LENGTH],
                               booking_id=booking_id, created_at=now)


def credit(uow: UnitOfWork, events: list[Event], *, customer_id: str, currency: str,
           amount: Decimal, reason: str, booking_id: str | None, now: datetime) -> None:
    """Credit inside the caller's transaction; ``InvalidAmount`` (rolling it back) if the balance
    would pass ``MAX_AMOUNT``, beyond which no booking could be priced with it."""
    entry = _entry(WalletEntryKind.CREDIT, customer_id=customer_id, currency=currency,
                   amount=amount, reason=reason, booking_id=booking_id, now=now)
    uow.wallets.append(entry)
    # Read after the credit: its row lock (SQL) makes the balance include concurrent credits.
    if uow.wallets.balance(customer_id, currency) > MAX_AMOUNT:
        raise InvalidAmount("this credit would take the wallet past the largest supported amount",
                            field="amount", value=amount, maximum=MAX_AMOUNT)
    events.append(event("WALLET_CREDITED", customer_id=customer_id, amount=amount, currency=currency,
                        reason=reason, booking_id=booking_id, entry_id=entry.id))


def debit(uow: UnitOfWork, events: list[Event], *, customer_id: str, currency: str,
          amount: Decimal, reason: str, booking_id: str | None, now: datetime) -> bool:
    """Debit inside the caller's transaction; False (and nothing moved) if the balance is short."""
    entry = _entry(WalletEntryKind.DEBIT, customer_id=customer_id, currency=currency,
                   amount=amount, reason=reason, booking_id=booking_id, now=now)
    if not uow.wallets.append(entry):
        return False
    events.append(event("WALLET_DEBITED", customer_id=customer_id, amount=amount, currency=currency,
                        reason=reason, booking_id=booking_id, entry_id=entry.id))
    return True


@in_money_context
def credit_wallet(uow: UnitOfWork, *, customer_id: str, amount: object, currency: str,
                  reason: str, clock: Clock) -> Decimal:
    """Add money to a customer's wallet (top-up, goodwill, correction). Returns the new balance.

    ``InvalidAmount`` (field ``amount``) if the balance would pass ``MAX_AMOUNT``.
    """
    check_id(customer_id, field="customer_id")
    value = parse_amount(amount, currency, allow_zero=False)
    reason = _check_reason(reason)
    now = now_from(clock)

    def work(uow: UnitOfWork, events: list[Event]) -> Decimal:
        credit(uow, events, customer_id=customer_id, currency=currency, amount=value,
               reason=reason, booking_id=None, now=now)
        return uow.wallets.balance(customer_id, currency)  # credit() refused one past MAX_AMOUNT

    return in_transaction(uow, work)


@in_money_context
def debit_wallet(uow: UnitOfWork, *, customer_id: str, amount: object, currency: str,
                 reason: str, clock: Clock) -> Decimal:
    """Take money out of a wallet (a correction or payout). ``InsufficientWalletBalance`` if short."""
    check_id(customer_id, field="customer_id")
    value = parse_amount(amount, currency, allow_zero=False)
    reason = _check_reason(reason)
    now = now_from(clock)

    def work(uow: UnitOfWork, events: list[Event]) -> Decimal:
        if not debit(uow, events, customer_id=customer_id, currency=currency, amount=value,
                     reason=reason, booking_id=None, now=now):
            raise InsufficientWalletBalance("the wallet balance does not cover this debit",
                                            customer_id=customer_id, amount=value,
                                            balance=uow.wallets.balance(customer_id, currency))
        return uow.wallets.balance(customer_id, currency)

    return in_transaction(uow, work)


@in_money_context
def wallet_balance(uow: UnitOfWork, *, customer_id: str, currency: str) -> Decimal:
    check_id(customer_id, field="customer_id")
    check_currency(currency)
    return read(uow, lambda uow: uow.wallets.balance(customer_id, currency))


@in_money_context
def wallet_history(uow: UnitOfWork, *, customer_id: str, currency: str) -> Sequence[WalletEntry]:
    check_id(customer_id, field="customer_id")
    check_currency(currency)
    return read(uow, lambda uow: list(uow.wallets.entries(customer_id, currency)))
