"""Column types that keep money exact, time in aware UTC and text compared byte for byte."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CHAR, BigInteger, DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from bookcore.errors import InvalidAmount, InvalidInput

#: Decimal places every money column keeps: enough for any currency's minor unit.
MONEY_SCALE = 3
MONEY_PRECISION = 20

#: Table options for MySQL/MariaDB: 4-byte UTF-8, and a binary collation so ids compare and sort
#: by code point as in Python ("alice" and "Alice" are two customers), not case-insensitively.
MYSQL_TABLE_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def varchar(length: int) -> TypeEngine[str]:
    """VARCHAR compared by code point everywhere (PostgreSQL's default collation may be a locale's)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def currency_code() -> TypeEngine[str]:
    return CHAR(3).with_variant(CHAR(3, collation="C"), "postgresql")


class Money(TypeDecorator[Decimal]):
    """An exact Decimal stored as NUMERIC(20, 3).

    SQLite has no exact decimal type (its NUMERIC is a float, and ``0.3 - 0.1 - 0.2`` is not 0
    there), so on SQLite the column holds whole thousandths in an INTEGER, which SQL arithmetic,
    comparisons and SUM keep exact. Readers re-quantize to the row's currency (rows.py).
    """

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Decimal | int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int) \
                or (isinstance(value, Decimal) and not value.is_finite()):
            raise InvalidAmount("money is stored from a finite Decimal", value=value)
        scaled = Decimal(value).scaleb(MONEY_SCALE)
        if scaled != scaled.to_integral_value():
            raise InvalidAmount(f"money is stored with at most {MONEY_SCALE} decimal places", value=value)
        return int(scaled) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_SCALE)
        return Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python; ``timestamptz`` on PostgreSQL, naive UTC elsewhere (SQLite keeps no
    zone; MariaDB's DATETIME has none). A naive datetime is refused on write: nobody can say which
    zone it meant."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """``timestamptz`` on PostgreSQL, read right whatever a session's time zone; elsewhere a
        naive DATETIME, on MySQL/MariaDB with six fractional digits (it drops them otherwise)."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        if dialect.name in ("mysql", "mariadb"):
            # Imported here: the dialect's modules are loaded only when that database is in use.
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput("datetimes stored by bookcore must be timezone-aware", value=value)
        utc = value.astimezone(UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], datetime | None] | None:
        parse = super().result_processor(dialect, coltype)
        if parse is None or dialect.name != "sqlite":
            return parse
        parse_text = parse

        def process(value: Any) -> datetime | None:
            # A connection opened with PARSE_DECLTYPES (Django's) returns DATETIME already parsed.
            return self.process_result_value(value, dialect) if isinstance(value, datetime) \
                else parse_text(value)

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - every driver returns datetimes
            raise InvalidInput("the database returned a timestamp that is not a datetime", value=value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
