"""Suppliers: who keeps customers' shelves stocked."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from cloud.api.schemas.common import CleanText, Patch
from cloud.catalog import SupplierSpec
from cloud.catalog.schema import Name

_EXAMPLE: JsonDict = {
    "code": "fastenal",
    "name": "Fastenal Company",
    "email": "vmi@fastenal.example",
}


Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class SupplierCreate(CleanText, SupplierSpec):
    """A new supplier."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    email: Email | None = None


class SupplierUpdate(Patch):
    """Changes to a supplier (its code cannot change)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "orders@fastenal.example"}]}
    )

    name: Name | SkipJsonSchema[None] = None
    email: Email | None = None


class SupplierPublic(SupplierSpec):
    """A supplier."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
