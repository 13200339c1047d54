"""``manage.py bookcore_audit``: ``bookcore audit`` on Django's database (same output, exit codes)."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from bookcore.auditing import DEFAULT_SWEEP_INTERVAL
from bookcore.cli.ops import MAX_SWEEP_INTERVAL_MINUTES, run_audit
from bookcore.contrib.django.commands import DjangoDatabase, bounded, run_as_cli


class Command(BaseCommand):
    help = ("Check bookcore's tables against its invariants, read-only; exit 1 listing each "
            "violation, 4 if the database is unreachable, 5 if not migrated.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--sweep-interval-minutes", type=bounded(1, MAX_SWEEP_INTERVAL_MINUTES),
                            default=int(DEFAULT_SWEEP_INTERVAL.total_seconds() // 60),
                            help="How long past expiry a HELD booking may wait for expire")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Django database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        database = DjangoDatabase(options["database"])
        interval = timedelta(minutes=options["sweep_interval_minutes"])
        run_as_cli(lambda: run_audit(database, sweep_interval=interval, as_json=options["json"]),
                   stdout=self.stdout, stderr=self.stderr)
