"""How bookcore's money columns read in Django: NUMERIC(20, 3) on PostgreSQL, whole thousandths
in an INTEGER on SQLite (bookcore's ``Money`` column type)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from bookcore.adapters.sqlalchemy.column_types import MONEY_PRECISION, MONEY_SCALE

if TYPE_CHECKING:  # django-stubs' fields are generic; Django's own classes cannot be subscripted
    DecimalField = models.DecimalField[Decimal, Decimal]
else:
    DecimalField = models.DecimalField


class MoneyField(DecimalField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_PRECISION)
        kwargs.setdefault("decimal_places", MONEY_SCALE)
        super().__init__(**kwargs)

    def from_db_value(self, value: Any, expression: Expression,
                      connection: BaseDatabaseWrapper) -> Decimal | None:
        if value is None:
            return None
        if connection.vendor == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_SCALE)
        return Decimal(value)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper,
                          prepared: bool = False) -> Any:
        if value is not None and connection.vendor == "sqlite":
            return int(Decimal(value).scaleb(MONEY_SCALE))
        return super().get_db_prep_value(value, connection, prepared)
