"""The base of bookcore's immutable value objects."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from bookcore.errors import InvalidInput

_EVERY_FIELD: dict[type[BaseModel], set[str]] = {}


def _every_field(model: type[BaseModel]) -> set[str]:
    fields = _EVERY_FIELD.get(model)
    if fields is None:
        fields = _EVERY_FIELD[model] = set(model.__pydantic_fields__)
    return fields


# BaseModel's own slot descriptors: setting through them skips the frozen model's __setattr__
# and the attribute lookup of object.__setattr__, about half the cost of building a trusted model.
_set_instance_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


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
        """Build from every field's value, computed by bookcore itself and valid by construction."""
        return cls.trusted_dict(values)

    @classmethod
    def trusted_dict(cls, values: dict[str, Any]) -> Self:
        """``trusted`` for a dict of every field's value, which becomes the instance's own.

        Skips validation on hot paths (a quote is priced many thousand times a second); what
        pydantic's ``model_construct`` does, without its per-field loops. Taking the dict itself
        spares the hottest callers building a keyword dict.
        """
        instance = object.__new__(cls)
        _set_instance_dict(instance, values)
        # Every field is set. One set per class is enough: a frozen model never adds to it, and
        # pydantic's model_copy copies it before changing it.
        _set_fields_set(instance, _EVERY_FIELD.get(cls) or _every_field(cls))
        _set_extra(instance, None)
        _set_private(instance, None)
        return instance


class InputModel(FrozenModel):
    """A value a caller hands to bookcore: strict, so nothing is silently coerced (bytes to str,
    True to 1, "5" to 5). Money fields parse through ``bookcore.money.to_decimal`` instead."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
