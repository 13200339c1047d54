"""``manage.py bookcore_expire``: ``bookcore expire`` on Django's database (same output, exit codes)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from bookcore.cli.sweep import run_expire
from bookcore.contrib.django.commands import DjangoDatabase, bounded, run_as_cli
from bookcore.holds import DEFAULT_BATCH_SIZE


class Command(BaseCommand):
    help = ("Expire lapsed holds and release their inventory, in batches. Exit 4 if the database "
            "is unreachable, 5 if not migrated, 6 if the run failed part way (rerun finishes).")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch-size", type=bounded(1, 100_000), default=DEFAULT_BATCH_SIZE,
                            help="Holds expired per transaction")
        parser.add_argument("--dry-run", action="store_true", help="Count what would expire")
        parser.add_argument("--json", action="store_true", help="Print JSON")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Django database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        database = DjangoDatabase(options["database"])
        run_as_cli(lambda: run_expire(database, batch_size=options["batch_size"],
                                      dry_run=options["dry_run"], as_json=options["json"]),
                   stdout=self.stdout, stderr=self.stderr)
