"""Structured state-change logging: one line per change, ``[TAG] key=value ...``.

The same fields go into the record's ``extra`` (under ``bookcore_event`` and ``bookcore_fields``
and as top-level attributes) so JSON handlers can index them without parsing the message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("bookcore")


@dataclass(frozen=True)
class Event:
    tag: str
    fields: dict[str, Any]


def event(tag: str, **fields: Any) -> Event:
    return Event(tag, fields)


def emit(events: Iterable[Event]) -> None:
    """Log events of a transaction that has committed (never before: logs must not lie)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    for item in events:
        text = " ".join(f"{key}={value}" for key, value in item.fields.items())
        logger.info("[%s] %s", item.tag, text,
                    extra={"bookcore_event": item.tag, "bookcore_fields": item.fields,
                           **{f"bc_{key}": value for key, value in item.fields.items()}})
