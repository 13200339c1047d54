"""Support commands for items and wallets: ``inventory add|show``, ``wallet credit|balance|history``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import typer

from bookcore.catalog import add_inventory_item
from bookcore.cli.output import money, print_json
from bookcore.cli.render import print_entries, print_items
from bookcore.cli.store import DatabaseUrl, database_url, open_store
from bookcore.clock import SystemClock, ensure_utc
from bookcore.errors import InvalidInput
from bookcore.lookups import inventory_items
from bookcore.money import to_decimal
from bookcore.wallet import credit_wallet, wallet_balance, wallet_history

inventory_app = typer.Typer(no_args_is_help=True, help="Bookable items and their capacity.")
wallet_app = typer.Typer(no_args_is_help=True, help="Customer wallets: an append-only ledger.")

Json = Annotated[bool, typer.Option("--json", help="Print JSON")]
Currency = Annotated[str, typer.Option(help="ISO 4217 code")]
Customer = Annotated[str, typer.Argument(help="Customer id")]


def parse_moment(text: str | None, *, field: str) -> datetime | None:
    """An ISO 8601 instant with its offset, e.g. 2026-03-01T14:00:00+05:30."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field} must be an ISO 8601 date-time with an offset",
                           field=field, value=text) from None
    return ensure_utc(moment, field=field)


@inventory_app.command("add")
def inventory_add(
    ctx: typer.Context,
    item_id: Annotated[str, typer.Argument(help="New item id, e.g. suite-7")],
    capacity: Annotated[int, typer.Option(min=0, help="Units that can be booked")],
    unit_price: Annotated[str, typer.Option(help="Price of one unit, e.g. 4200.00")],
    currency: Currency = "INR",
    name: Annotated[str | None, typer.Option(help="Display name (default: the id)")] = None,
    starts_at: Annotated[str | None, typer.Option(
        help="When the booked thing starts (ISO 8601 with offset); refund tiers count from it")] = None,
    as_json: Json = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Add a bookable item with all of its capacity free."""
    with open_store(database_url(ctx, database_url_option)) as store:
        item = add_inventory_item(store.uow(), item_id=item_id, name=name or item_id, capacity=capacity,
                                  unit_price=unit_price, currency=currency.upper(),
                                  starts_at=parse_moment(starts_at, field="starts_at"))
    if as_json:
        print_json(item)
    else:
        typer.echo(f"added {item.id} ({item.name}): capacity {item.capacity}, "
                   f"{money(item.unit_price, item.currency)} per unit")


@inventory_app.command("show")
def inventory_show(
    ctx: typer.Context,
    item_id: Annotated[str | None, typer.Argument(help="One item (default: all)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of items")] = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Show items with their capacity and what is still available."""
    with open_store(database_url(ctx, database_url_option)) as store:
        items = inventory_items(store.uow(), item_id=item_id)
    if as_json:
        print_json(items)
    else:
        print_items(items)


def _print_balance(customer: str, currency: str, balance: Decimal, as_json: bool, prefix: str = "") -> None:
    if as_json:
        print_json({"customer_id": customer, "currency": currency, "balance": balance})
    else:
        typer.echo(f"{prefix}{customer} wallet balance: {money(balance, currency)}")


@wallet_app.command("credit")
def wallet_credit(
    ctx: typer.Context,
    customer: Customer,
    amount: Annotated[str, typer.Option(help="Amount to add, e.g. 500.00")],
    currency: Currency = "INR",
    reason: Annotated[str, typer.Option(help="Why (kept in the ledger)")] = "support credit",
    as_json: Json = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Add money to a customer's wallet (goodwill, correction, top-up)."""
    code = currency.upper()
    with open_store(database_url(ctx, database_url_option)) as store:
        balance = credit_wallet(store.uow(), customer_id=customer, amount=amount, currency=code,
                                reason=reason, clock=SystemClock())
    _print_balance(customer, code, balance, as_json, prefix=f"credited {money(to_decimal(amount), code)}; ")


@wallet_app.command("balance")
def wallet_balance_command(
    ctx: typer.Context, customer: Customer, currency: Currency = "INR", as_json: Json = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Show a customer's wallet balance."""
    code = currency.upper()
    with open_store(database_url(ctx, database_url_option)) as store:
        balance = wallet_balance(store.uow(), customer_id=customer, currency=code)
    _print_balance(customer, code, balance, as_json)


@wallet_app.command("history")
def wallet_history_command(
    ctx: typer.Context, customer: Customer, currency: Currency = "INR", as_json: Json = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """List a customer's wallet ledger, oldest first, with the balance."""
    code = currency.upper()
    with open_store(database_url(ctx, database_url_option)) as store:
        entries = wallet_history(store.uow(), customer_id=customer, currency=code)
        balance = wallet_balance(store.uow(), customer_id=customer, currency=code)
    if as_json:
        print_json({"customer_id": customer, "currency": code, "balance": balance,
                    "entries": list(entries)})
    else:
        print_entries(entries)
        typer.echo(f"balance: {money(balance, code)}")
