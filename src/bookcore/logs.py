"""Structured state-change logging: one line per change, ``[TAG] key=value ...`` in logfmt.

Values are quoted and escaped by logfmt's rules, so no value (a wallet reason, say) can break the
line or forge another one. The record also carries ``bookcore_event`` (the tag) and
``bookcore_fields`` (the fields as JSON-safe values: amounts and datetimes as strings) for
handlers that write JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

logger = logging.getLogger("bookcore")

#: What a JSON-safe field value is.
JsonValue = str | int | bool | None

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class Event:
    tag: str
    fields: dict[str, Any]


def event(tag: str, **fields: Any) -> Event:
    return Event(tag, fields)


def json_safe(value: object) -> JsonValue:
    """A field's value as JSON can hold it exactly: Decimals as their string, never a float."""
    if isinstance(value, Enum):
        value = value.value
    if value is None or isinstance(value, str | int):  # bool is an int
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def logfmt_value(value: JsonValue) -> str:
    """``value`` as a logfmt value: bare when it is plain, else quoted with ``\\``, ``"`` and every
    unprintable character (newlines included) escaped; None is empty."""
    if value is None:
        return ""
    text = str(value)
    if text and text.isprintable() and not any(c in text for c in ' ="\\'):
        return text
    return '"' + "".join(_ESCAPES.get(c) or (c if c.isprintable() else _code_point(c)) for c in text) + '"'


def _code_point(character: str) -> str:
    number = ord(character)
    return f"\\u{number:04x}" if number <= 0xFFFF else f"\\U{number:08x}"


def emit(events: Iterable[Event]) -> None:
    """Log events of a transaction that has committed (never before: logs must not lie)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    for item in events:
        fields = {key: json_safe(value) for key, value in item.fields.items()}
        text = " ".join(f"{key}={logfmt_value(value)}" for key, value in fields.items())
        logger.info("[%s] %s", item.tag, text,
                    extra={"bookcore_event": item.tag, "bookcore_fields": fields})
