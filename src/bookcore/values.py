"""The base of bookcore's immutable value objects."""

from __future__ import annotations

from typing import Any, Self, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from bookcore.errors import InvalidInput


class FrozenModel(BaseModel):
    """An immutable pydantic model whose validation failures are ``InvalidInput``, not pydantic's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in issue['loc']) or 'value'}: {issue['msg']}"
                for issue in error.errors()
            )
            raise InvalidInput(f"invalid {type(self).__name__}: {problems}") from None

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """Build from every field's value, computed or checked by bookcore itself: pydantic's
        ``model_construct``, which skips validation that has already been done."""
        # cast: pydantic's mypy plugin types model_construct by the class it is declared on.
        return cast(Self, cls.model_construct(**values))


class InputModel(FrozenModel):
    """A value a caller hands to bookcore: strict, so nothing is silently coerced (bytes to str,
    True to 1, "5" to 5). Money fields parse through ``bookcore.money.to_decimal`` instead."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
