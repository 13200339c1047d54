"""The injectable clock: every "now" in bookcore comes from one of these, aware and in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from bookcore.errors import InvalidInput


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The server's wall clock in UTC. The client's clock is never consulted."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock tests move by hand; it never sleeps."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start, field="start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise InvalidInput("a clock only moves forward", delta=delta)
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = ensure_utc(moment, field="moment")


def ensure_utc(moment: object, *, field: str = "now") -> datetime:
    """Refuse naive datetimes (they mean nothing across servers) and normalise aware ones to UTC."""
    if type(moment) is datetime and moment.tzinfo is UTC:
        return moment
    if not isinstance(moment, datetime):
        raise InvalidInput(f"{field} must be a datetime", field=field, value=moment)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{field} must be timezone-aware", field=field, value=moment)
    return moment.astimezone(UTC)
