"""The base of bookcore's immutable value objects, and the checks of the plain values in them
(ids, free text)."""

from __future__ import annotations

from typing import Any, Self, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from bookcore.errors import InvalidInput

MAX_ID_LENGTH = 64


def check_id(value: object, *, field: str) -> str:
    """Ids are 1 to 64 printable characters without surrounding blanks."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH \
            or not value.isprintable() or value != value.strip():
        raise InvalidInput(f"{field} must be 1 to {MAX_ID_LENGTH} printable characters",
                           field=field, value=value)
    return value


def check_text(value: object, *, field: str) -> str:
    """Free text (a name, a reason, a code as typed) is a str that every backend can store: UTF-8
    must encode it (a lone surrogate cannot be stored or logged) and it has no NUL (PostgreSQL
    refuses one in text)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string", field=field, value=value)
    try:
        value.encode()
    except UnicodeEncodeError:
        raise InvalidInput(f"{field} is not valid Unicode text", field=field, value=value) from None
    if "\x00" in value:
        raise InvalidInput(f"{field} must not contain a NUL character", field=field, value=value)
    return value


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
            first = ".".join(str(part) for part in error.errors()[0]["loc"])
            raise InvalidInput(f"invalid {type(self).__name__}: {problems}",
                               field=first or type(self).__name__) from None

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
