"""The injectable clock: every "now" in bookcore comes from one of these, aware and in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from bookcore.errors import InvalidInput

#: The moments bookcore works with: what every backend stores (MariaDB's DATETIME starts in the
#: year 1000), with room at the end for anything bookcore adds to a "now" (a hold's TTL).
EARLIEST = datetime(1000, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


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
        if not isinstance(delta, timedelta) or delta < timedelta(0):
            raise InvalidInput("a clock only moves forward, by a timedelta", field="delta",
                               value=delta)
        if delta > LATEST - self._now:
            raise InvalidInput(f"a clock cannot move past {LATEST.isoformat()}", field="delta",
                               value=delta)
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = ensure_utc(moment, field="moment")


def ensure_utc(moment: object, *, field: str = "now") -> datetime:
    """Refuse naive datetimes (they mean nothing across servers) and moments outside
    ``EARLIEST``..``LATEST``; normalise aware ones to UTC."""
    if type(moment) is datetime and moment.tzinfo is UTC:
        utc = moment
    elif not isinstance(moment, datetime):
        raise InvalidInput(f"{field} must be a datetime", field=field, value=moment)
    elif moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{field} must be timezone-aware", field=field, value=moment)
    elif not EARLIEST.replace(tzinfo=None) <= moment.replace(tzinfo=None) <= LATEST.replace(tzinfo=None):
        # Checked before converting: near the ends of the calendar the conversion itself overflows.
        raise _out_of_range(field, moment)
    else:
        utc = moment.astimezone(UTC)
    if not EARLIEST <= utc <= LATEST:
        raise _out_of_range(field, moment)
    return utc


def _out_of_range(field: str, moment: datetime) -> InvalidInput:
    return InvalidInput(f"{field} must be between {EARLIEST.date()} and {LATEST.date()}",
                        field=field, value=moment)


def now_from(clock: object, *, field: str = "clock") -> datetime:
    """What ``clock`` says the time is, checked as ``ensure_utc`` checks it."""
    read = getattr(clock, "now", None)
    if not callable(read):
        raise InvalidInput(f"{field} must have a now() method returning a datetime", field=field,
                           value=clock)
    return ensure_utc(read(), field=field)
