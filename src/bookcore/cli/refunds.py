"""Gateway refunds for ops: ``refunds-owed`` lists what to send back, ``refund-executed`` records it."""

from __future__ import annotations

from typing import Annotated

import typer

from bookcore.cli.output import money, plural, print_json
from bookcore.cli.render import console, table
from bookcore.cli.store import DatabaseUrl, database_url, open_store
from bookcore.clock import SystemClock
from bookcore.refunds import mark_gateway_refund_executed, refunds_owed

Json = Annotated[bool, typer.Option("--json", help="Print JSON")]


def refunds_owed_command(ctx: typer.Context, as_json: Json = False,
                         database_url_option: DatabaseUrl = None) -> None:
    """List gateway refunds to execute, oldest first; exit 0 whether or not any is owed."""
    with open_store(database_url(ctx, database_url_option)) as store:
        owed = refunds_owed(store.uow())
    if as_json:
        print_json(list(owed))
        return
    if not owed:
        typer.echo("no gateway refunds owed")
        return
    grid = table("refund", "booking", "to gateway", "reverses", "payment", "reason", "since")
    for refund in owed:
        grid.add_row(refund.id, refund.booking_id, money(refund.to_gateway, refund.currency),
                     refund.charge_reference or "-", refund.payment_id or "-", refund.reason,
                     refund.created_at.isoformat())
    console().print(grid)
    typer.echo(f"{plural(len(owed), 'gateway refund')} owed")


def refund_executed_command(
    ctx: typer.Context,
    refund_id: Annotated[str, typer.Argument(help="The refund's id (from refunds-owed)")],
    reference: Annotated[str, typer.Option(help="The gateway's reference for the executed refund")],
    as_json: Json = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Record that a gateway refund was executed; the same reference again changes nothing."""
    with open_store(database_url(ctx, database_url_option)) as store:
        refund = mark_gateway_refund_executed(store.uow(), refund_id=refund_id,
                                              gateway_reference=reference, clock=SystemClock())
    if as_json:
        print_json(refund)
        return
    executed_at = refund.executed_at.isoformat() if refund.executed_at else "-"
    typer.echo(f"refund {refund.id}: {money(refund.to_gateway, refund.currency)} executed as "
               f"{refund.refund_reference} at {executed_at}")
