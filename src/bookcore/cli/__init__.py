"""The ``bookcore`` command: parse, call a service, print. See docs/cli.md and docs/operations.md.

Each module holds one group of commands; this one only wires them into ``app``. Nothing here
touches a database or the environment until a command runs.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from enum import StrEnum
from typing import Annotated, NoReturn

import typer

from bookcore.cli import bookings, demo, events, ops, refunds, support
from bookcore.cli.output import EXIT_OUTPUT_FAILED, bookcore_logs
from bookcore.cli.store import DEFAULT_DATABASE_URL, RootDatabaseUrl, Settings

EXIT_CODES_HELP = ("Exit codes: 0 ok; 1 audit found violations; 2 bad arguments; 3 refused by a "
                   "business rule; 4 database unreachable; 5 schema not migrated (run `bookcore db "
                   "upgrade`); 6 expire failed part way (rerun finishes); 7 the output could not be "
                   "written (disk full).")

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="bookcore: booking and payments core. Ops and support commands.",
                  epilog=EXIT_CODES_HELP)


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@app.callback()
def _root(
    ctx: typer.Context,
    database_url: RootDatabaseUrl = DEFAULT_DATABASE_URL,
    log_level: Annotated[LogLevel, typer.Option(
        envvar="BOOKCORE_LOG_LEVEL", show_envvar=True,
        help="Log bookcore's [BOOKING_*]/[PAYMENT_*]/[WALLET_*] lines (info) to stderr")] = LogLevel.WARNING,
) -> None:
    """bookcore: booking and payments core. Ops and support commands."""
    ctx.obj = Settings(database_url=database_url)
    ctx.with_resource(bookcore_logs(logging.getLevelNamesMapping()[log_level.upper()], err=True,
                                    fmt="%(asctime)s %(levelname)s %(name)s %(message)s"))


app.add_typer(ops.db_app, name="db")
app.command("expire")(ops.expire)
app.command("audit")(ops.audit_command)
app.add_typer(support.inventory_app, name="inventory")
app.add_typer(support.wallet_app, name="wallet")
for command in (bookings.quote, bookings.hold, bookings.pay, bookings.cancel, bookings.show):
    app.command()(command)
app.command("refunds-owed")(refunds.refunds_owed_command)
app.command("refund-executed")(refunds.refund_executed_command)
app.command("demo")(demo.demo)
app.command("events")(events.events)


def main() -> None:
    if hasattr(signal, "SIGPIPE"):  # a reader that stops early (`| head`) ends us as any Unix tool
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        try:
            app(prog_name="bookcore")
        finally:
            sys.stdout.flush()  # a full disk shows here, while it can still be reported
    except OSError as error:
        _output_failed(error)


def _output_failed(error: OSError) -> NoReturn:
    """stdout could not be written (``> /dev/full``, a full log disk): one line on stderr, exit 7.

    stdout is pointed at /dev/null first so that the interpreter's own flush at exit, of output
    that can never be written, does not print a second complaint.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    typer.echo(f"error: output_failed: could not write the output ({error.strerror or error})", err=True)
    sys.exit(EXIT_OUTPUT_FAILED)
