"""What the management commands share with the ``bookcore`` CLI: the same functions print the
same output and return the same exit codes (docs/cli.md), on Django's database instead of a URL."""

from __future__ import annotations

import sys
from argparse import ArgumentTypeError
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import TextIOBase
from typing import TextIO, cast

import typer
from django.core.management.base import OutputWrapper

from bookcore.cli.output import error_line, exit_code_for
from bookcore.contrib.django.unit_of_work import DjangoUnitOfWork
from bookcore.errors import BookcoreError
from bookcore.ports import UnitOfWork


@dataclass(frozen=True)
class DjangoDatabase:
    alias: str

    @property
    def shown_url(self) -> str:
        return f"django:{self.alias}"

    def uow(self) -> UnitOfWork:
        return DjangoUnitOfWork(self.alias)


def bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``low`` to ``high`` (a usage error, exit 2, otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse


class _Verbatim(TextIOBase):
    """A management command's stream written as is (``OutputWrapper`` ends every write, even an
    empty one, with a newline)."""

    def __init__(self, stream: OutputWrapper) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(text, ending="")
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


def run_as_cli(command: Callable[[], int], *, stdout: OutputWrapper, stderr: OutputWrapper) -> None:
    """Run ``command`` with the CLI's output going to the management command's streams, and exit
    with its code (``SystemExit``, as the CLI does) when that is not 0."""
    with redirect_stdout(cast(TextIO, _Verbatim(stdout))), \
            redirect_stderr(cast(TextIO, _Verbatim(stderr))):
        try:
            code = command()
        except BookcoreError as error:
            typer.echo(error_line(error), err=True)
            code = exit_code_for(error)
        sys.stdout.flush()
    if code:
        raise SystemExit(code)
