"""``bookcore events``: print the outbox, or read and acknowledge it as a named consumer."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated

import typer

from bookcore.cli.output import print_json
from bookcore.cli.store import DatabaseUrl, database_url, open_store
from bookcore.outbox import acknowledge, consumer_position, read_events

if TYPE_CHECKING:
    from bookcore.ports import UnitOfWork
    from bookcore.stored_events import StoredEvent


def events(
    ctx: typer.Context,
    after: Annotated[int | None, typer.Option(min=0, help="Start after this position (default: 0, "
                                              "or the consumer's acknowledged position)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Events per read")] = 100,
    consumer: Annotated[str | None, typer.Option(
        help="Read as this consumer: start after its position and acknowledge what was printed")] = None,
    follow: Annotated[bool, typer.Option(
        "--follow", help="Keep polling for new events (Ctrl-C stops)")] = False,
    interval: Annotated[float, typer.Option(
        min=0.1, max=3600, help="Seconds between polls with --follow")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Print events from the outbox in position order."""
    with open_store(database_url(ctx, database_url_option)) as store:
        uow = store.uow()
        position = after if after is not None else (
            consumer_position(uow, consumer=consumer) if consumer else 0)
        try:
            while True:
                position = _print_batches(uow, position, limit, consumer, as_json)
                if not follow:
                    return
                time.sleep(interval)  # polling: the outbox is a table, not a notification channel
        except KeyboardInterrupt:
            return


def _print_batches(uow: UnitOfWork, position: int, limit: int, consumer: str | None,
                   as_json: bool) -> int:
    while batch := read_events(uow, after=position, limit=limit):
        for item in batch:
            _show(item, as_json)
        position = batch[-1].position
        if consumer:
            acknowledge(uow, consumer=consumer, position=position)
    return position


def _show(item: StoredEvent, as_json: bool) -> None:
    if as_json:
        print_json(item, compact=True)
    else:
        typer.echo(f"{item.position} {item.created_at.isoformat()} [{item.name}] "
                   f"{json.dumps(item.payload, separators=(',', ':'))}")
