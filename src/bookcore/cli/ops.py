"""Operations: ``db upgrade|current``, the cron-safe ``expire`` and the read-only ``audit``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

import typer

from bookcore.auditing import DEFAULT_SWEEP_INTERVAL, audit
from bookcore.cli.output import EXIT_OK, EXIT_VIOLATIONS, fail, plural, print_json
from bookcore.cli.store import Database, DatabaseUrl, database_url, open_store
from bookcore.cli.sweep import StopSignal, interruptible, run_every, run_expire
from bookcore.clock import SystemClock
from bookcore.errors import SchemaNotMigrated
from bookcore.holds import DEFAULT_BATCH_SIZE

db_app = typer.Typer(no_args_is_help=True, help="Schema migrations (Alembic, shipped with bookcore).")

#: Ten years: further back than any booking, and far from where date arithmetic overflows.
MAX_SWEEP_INTERVAL_MINUTES = 10 * 366 * 24 * 60
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smh]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_interval(text: str | None) -> float | None:
    """``30s``, ``5m``, ``1h`` or plain seconds; between 1 second and 24 hours."""
    if text is None:
        return None
    match = _INTERVAL.match(text)
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]] if match else 0
    if not 1 <= seconds <= 86_400:
        raise typer.BadParameter("use a duration from 1s to 24h, e.g. 30s, 5m or 1h",
                                 param_hint="--every")
    return float(seconds)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, database_url_option: DatabaseUrl = None,
               as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Create or upgrade the schema to the newest revision (safe to run again)."""
    from bookcore.adapters.sqlalchemy import current_revision, head_revision, migrate

    with open_store(database_url(ctx, database_url_option), create=True) as store:
        previous = current_revision(store.engine)
        migrate(store.engine)
        current = current_revision(store.engine)
    report = {"database": store.shown_url, "previous": previous, "current": current,
              "head": head_revision()}
    if as_json:
        print_json(report)
    elif previous == current:
        typer.echo(f"{store.shown_url}: already at revision {current} (head)")
    else:
        typer.echo(f"{store.shown_url}: upgraded {previous or '(empty)'} -> {current} (head)")


@db_app.command("current")
def db_current(ctx: typer.Context, database_url_option: DatabaseUrl = None,
               as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Show the schema revision; exit 5 when it is not the newest (run `bookcore db upgrade`)."""
    from bookcore.adapters.sqlalchemy import current_revision, head_revision

    with open_store(database_url(ctx, database_url_option)) as store:
        current = current_revision(store.engine)
    head = head_revision()
    if as_json:
        print_json({"database": store.shown_url, "current": current, "head": head,
                    "up_to_date": current == head})
    else:
        state = "up to date" if current == head else "behind"
        typer.echo(f"{store.shown_url}: revision {current or '(none)'}, head {head} ({state})")
    if current != head:
        fail(SchemaNotMigrated(f"the schema is at revision {current or '(none)'}, not {head}; "
                               "run `bookcore db upgrade`"))


def expire(
    ctx: typer.Context,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000,
                                            help="Holds expired per transaction")] = DEFAULT_BATCH_SIZE,
    dry_run: Annotated[bool, typer.Option("--dry-run",
                                          help="Count what would expire; change nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one object per run)")] = False,
    every: Annotated[str | None, typer.Option(
        metavar="DURATION",
        help="Keep running: sweep, wait DURATION (30s, 5m, 1h), repeat until SIGINT/SIGTERM")] = None,
    max_runs: Annotated[int | None, typer.Option(hidden=True, min=1)] = None,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Expire lapsed holds and release their inventory, in batches. Safe from many hosts at once.

    Exit 0 on success, 4 if the database is unreachable, 5 if it is not migrated, 6 if the run
    failed part way (finished batches are kept; the next run completes the job).
    """
    url = database_url(ctx, database_url_option)
    interval = parse_interval(every)
    with open_store(url) as store:
        if interval is None:
            with interruptible():
                code = run_expire(store, batch_size=batch_size, dry_run=dry_run, as_json=as_json)
            if code:
                raise typer.Exit(code)
            return
        stop = StopSignal()
        with stop.installed():
            run_every(lambda: run_expire(store, batch_size=batch_size, dry_run=dry_run,
                                         as_json=as_json, loop=True),
                      interval=interval, wait=stop.wait, max_runs=max_runs)


def audit_command(
    ctx: typer.Context,
    sweep_interval_minutes: Annotated[int, typer.Option(
        min=1, max=MAX_SWEEP_INTERVAL_MINUTES,
        help="How long past expiry a HELD booking may wait for `expire` before it is a violation; "
             "match your expire schedule")] = int(
        DEFAULT_SWEEP_INTERVAL.total_seconds() // 60),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    database_url_option: DatabaseUrl = None,
) -> None:
    """Check the database against bookcore's invariants; exit 1 listing each violation. Read-only."""
    with open_store(database_url(ctx, database_url_option)) as store:
        code = run_audit(store, sweep_interval=timedelta(minutes=sweep_interval_minutes),
                         as_json=as_json)
    if code:
        raise typer.Exit(code)


def run_audit(store: Database, *, sweep_interval: timedelta, as_json: bool) -> int:
    """Audit, print the report and return the exit code (1 if any invariant is violated)."""
    report = audit(store.uow(), clock=SystemClock(), sweep_interval=sweep_interval)
    if as_json:
        print_json({"ok": report.ok, **report.model_dump(mode="json")})
    else:
        for violation in report.violations:
            typer.echo(f"violation: {violation.rule} {violation.subject}: {violation.detail}")
        verdict = "ok" if report.ok else f"FAILED, {len(report.violations)} violation(s)"
        typer.echo(f"audit {verdict}: checked {plural(report.items_checked, 'item')}, "
                   f"{plural(report.wallets_checked, 'wallet')}, "
                   f"{plural(report.bookings_checked, 'booking')} ({store.shown_url})")
    return EXIT_OK if report.ok else EXIT_VIOLATIONS

