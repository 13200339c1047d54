"""How the CLI talks back: exit codes, one-line errors, JSON, and database URLs without passwords."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NoReturn

import typer
from pydantic import BaseModel

from bookcore.errors import BookcoreError, InvalidInput, SchemaNotMigrated, StorageError
from bookcore.money import quantize

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_UNAVAILABLE = 4
EXIT_NOT_MIGRATED = 5
EXIT_PARTIAL = 6
EXIT_OUTPUT_FAILED = 7

#: The one table from errors to exit codes; the first class the error is an instance of wins.
EXIT_CODES: tuple[tuple[type[BookcoreError], int], ...] = (
    (InvalidInput, EXIT_USAGE),
    (SchemaNotMigrated, EXIT_NOT_MIGRATED),
    (StorageError, EXIT_UNAVAILABLE),
    (BookcoreError, EXIT_REFUSED),
)


def exit_code_for(error: BookcoreError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


def mask_url(url: str) -> str:
    """The URL as it may be shown to a person or a log: never with its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"


def _detail(value: object) -> str:
    if isinstance(value, str):
        return repr(" ".join(value.split()))  # driver messages carry newlines and tabs
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    return str(value) if isinstance(value, Decimal) else repr(value)


def describe(error: BookcoreError) -> str:
    """The message and its details on one line, e.g. ``not enough capacity (requested=3, ...)``.

    Database URLs reach a message only through ``mask_url``, so no password is ever in one.
    """
    details = ", ".join(f"{key}={_detail(value)}" for key, value in error.details.items())
    return " ".join((f"{error.message} ({details})" if details else error.message).split())


def error_line(error: BookcoreError) -> str:
    return f"error: {error.code}: {describe(error)}"


def fail(error: BookcoreError) -> NoReturn:
    """Print the error as one line on stderr and exit with its code."""
    typer.echo(error_line(error), err=True)
    raise typer.Exit(code=exit_code_for(error))


def translated(exc: BaseException) -> BookcoreError | None:
    """The bookcore error for ``exc``; a database error an adapter let through is a StorageError."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, BookcoreError):
        return exc
    if isinstance(exc, SQLAlchemyError):
        return StorageError(f"{type(exc).__name__}: {exc}")
    return None


@contextmanager
def reported() -> Iterator[None]:
    """Turn a ``BookcoreError`` (or an untranslated database error) into one line and an exit code."""
    try:
        yield
    except Exception as exc:
        error = translated(exc)
        if error is None:
            raise
        fail(error)


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 unit``, ``2 units``, ``1 batch``, ``3 batches``."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


def money(amount: Decimal, currency: str) -> str:
    """An amount in the currency's minor units: ``1000.00 INR``, ``0.00 INR``, ``500 JPY``."""
    return f"{quantize(amount, currency)} {currency}"


class EchoHandler(logging.Handler):
    """Log records through ``typer.echo``, so they go wherever the command's output goes."""

    def __init__(self, *, err: bool, fmt: str) -> None:
        super().__init__()
        self.err = err
        formatter = logging.Formatter(fmt, datefmt="%Y-%m-%dT%H:%M:%SZ")
        formatter.converter = time.gmtime
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(self.format(record), err=self.err)


@contextmanager
def bookcore_logs(level: int, *, err: bool, fmt: str) -> Iterator[None]:
    """Show the ``bookcore`` logger's records at ``level`` and above for the length of a command."""
    logger = logging.getLogger("bookcore")
    handler = EchoHandler(err=err, fmt=fmt)
    handler.setLevel(level)
    saved = logger.level
    logger.setLevel(min(level, logger.getEffectiveLevel()))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


def jsonable(value: Any) -> Any:
    """Plain JSON data: pydantic models as ``model_dump(mode="json")``, Decimals as strings."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def print_json(value: Any, *, compact: bool = False) -> None:
    data = jsonable(value)
    typer.echo(json.dumps(data, separators=(",", ":")) if compact else json.dumps(data, indent=2))
