"""Human-readable output: price breakdowns, bookings, tables. Scripts use ``--json`` instead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from bookcore.lookups import BookingDetails
from bookcore.model import InventoryItem, WalletEntry
from bookcore.pricing import Pricing

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def console() -> Console:
    """Colour and the terminal's width on a terminal; plain text, wide enough for ids, elsewhere."""
    from rich.console import Console

    # markup off: ids, names and reasons are data, and "[x]" in one must print as typed.
    screen = Console(highlight=False, markup=False, emoji=False)
    return screen if screen.is_terminal else Console(highlight=False, markup=False, emoji=False,
                                                     width=160)


def table(*columns: str) -> Table:
    from rich.table import Table

    grid = Table(box=None, pad_edge=False, show_edge=False)
    for column in columns:
        grid.add_column(column, no_wrap=True)
    return grid


def pricing_text(pricing: Pricing) -> str:
    lines = [f"{'subtotal':<18}{pricing.subtotal:>14} {pricing.currency}"
             f"   ({pricing.quantity} x {pricing.unit_price})"]
    promo_note = pricing.promo_code or (f"refused: {pricing.promo_refusal}"
                                        if pricing.promo_refusal else "")
    lines.append(f"{'discount':<18}{-pricing.discount:>14}   {promo_note}".rstrip())
    lines += [f"{'fee ' + line.name:<18}{line.amount:>14}" for line in pricing.fee_lines]
    lines.append(f"{'tax':<18}{pricing.tax:>14}   ({pricing.tax_percent}%)")
    lines.append(f"{'total':<18}{pricing.total_amount:>14}")
    lines.append(f"{'wallet applied':<18}{-pricing.wallet_applied:>14}")
    lines.append(f"{'gateway payable':<18}{pricing.gateway_payable:>14}")
    lines.append("gateway options: " + ("shown" if pricing.requires_gateway else
                                        "hidden (wallet covers the total)"))
    return "\n".join(lines)


def print_booking(details: BookingDetails) -> None:
    booking = details.booking
    status = booking.status.value
    if details.seconds_left:
        status += f", {details.seconds_left} s left"
    rows = [("booking", booking.id), ("status", status),
            ("item", f"{booking.item_id} x {booking.quantity}"), ("customer", booking.customer_id),
            ("reserved at", booking.reserved_at.isoformat()),
            ("expires at", booking.expires_at.isoformat())]
    rows += [(label, moment.isoformat()) for label, moment in (
        ("confirmed at", booking.confirmed_at), ("expired at", booking.expired_at),
        ("cancelled at", booking.cancelled_at)) if moment is not None]
    for label, value in rows:
        typer.echo(f"{label:<18}{value}")
    typer.echo("\npricing (snapshot taken when the hold was placed)")
    typer.echo(pricing_text(booking.pricing))
    screen = console()
    if details.payments:
        payments = table("payment", "outcome", "wallet", "gateway", "reference", "key", "at")
        for p in details.payments:
            payments.add_row(p.id, p.outcome.value, str(p.wallet_amount), str(p.gateway_amount),
                             p.gateway_reference or "-", p.idempotency_key, p.created_at.isoformat())
        screen.print("\npayments", payments)
    else:
        typer.echo("\npayments: none")
    if details.refunds:
        refunds = table("refund", "mode", "to wallet", "to gateway", "reason", "at")
        for r in details.refunds:
            refunds.add_row(r.id, r.mode.value, str(r.to_wallet), str(r.to_gateway), r.reason,
                            r.created_at.isoformat())
        screen.print("\nrefunds", refunds)
    else:
        typer.echo("refunds: none")


def print_items(items: Sequence[InventoryItem]) -> None:
    if not items:
        typer.echo("no inventory items")
        return
    grid = table("item", "name", "capacity", "available", "unit price", "starts at")
    for item in items:
        grid.add_row(item.id, item.name, str(item.capacity), str(item.available),
                     f"{item.unit_price} {item.currency}",
                     item.starts_at.isoformat() if item.starts_at else "-")
    console().print(grid)


def print_entries(entries: Sequence[WalletEntry]) -> None:
    if not entries:
        typer.echo("no wallet entries")
        return
    grid = table("at", "kind", "amount", "reason", "booking", "entry")
    for entry in entries:
        grid.add_row(entry.created_at.isoformat(), entry.kind.value, str(entry.signed_amount),
                     entry.reason, entry.booking_id or "-", entry.id)
    console().print(grid)
