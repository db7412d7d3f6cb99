"""Shapes shared by every resource."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: `data`, and `count`, the length of the whole (filtered) list."""

    data: list[T]
    count: int = Field(ge=0, description="Items in the whole list, not only this page.")

    @classmethod
    def of(cls, items: list[T], offset: int, limit: int) -> Page[T]:
        """The page of `items` from `offset`, at most `limit` long."""
        return cls(data=items[offset : offset + limit], count=len(items))


MAX_INT = 2_147_483_647
"""The largest integer a column may hold (PostgreSQL INTEGER)."""


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(v) for v in value)
    if isinstance(value, BaseModel):
        return any(_has_nul(v) for v in value.__dict__.values())
    return False


class CleanText(BaseModel):
    """Mixin: no text field may hold a NUL character (PostgreSQL cannot store one)."""

    @model_validator(mode="after")
    def _no_nul(self) -> Any:
        if any(_has_nul(v) for v in self.__dict__.values()):
            raise ValueError("text must not contain NUL characters")
        return self


class Patch(CleanText):
    """Base of every `XUpdate`: unknown fields are errors; only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    def changes(self) -> dict[str, object]:
        """The fields the request set, with their values."""
        return {name: getattr(self, name) for name in self.model_fields_set}
