"""Events as the outbox stores them, and how an event's fields become its JSON payload."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from bookcore.logs import Event
from bookcore.values import FrozenModel


class StoredEvent(FrozenModel):
    """One event as the outbox keeps it; ``position`` grows with every event written."""

    position: int
    name: str
    booking_id: str | None
    payload: dict[str, Any]
    created_at: datetime


def payload_json(fields: Mapping[str, Any]) -> str:
    """An event's fields as JSON: amounts as strings (exact), datetimes in ISO 8601, enums by value."""
    return json.dumps(dict(fields), default=_plain, separators=(",", ":"))


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return str(value)


def booking_of(item: Event) -> str | None:
    booking_id = item.fields.get("booking_id")
    return booking_id if isinstance(booking_id, str) else None
