"""SKUs: what is counted, packed and ordered."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from cloud.api.schemas.common import MAX_INT, CleanText, Patch
from cloud.catalog import SkuSpec
from cloud.catalog.schema import Gtin14, Name

_EXAMPLE: JsonDict = {
    "code": "BOLT-M8",
    "name": "Hex bolt M8x40, zinc",
    "gtin": "04012345000016",
    "unit_weight_g": 18.5,
    "pack_size": 50,
    "min_order_qty": 100,
}


class SkuCreate(CleanText, SkuSpec):
    """A new SKU."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    pack_size: int = Field(default=1, ge=1, le=MAX_INT, description="Units per pack.")
    min_order_qty: int = Field(default=1, ge=1, le=MAX_INT, description="Smallest order, units.")


class SkuUpdate(Patch):
    """Changes to a SKU (its code cannot change)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"pack_size": 100}]})

    name: Name | None = None
    gtin: Gtin14 | None = None
    unit_weight_g: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    pack_size: Annotated[int, Field(ge=1, le=MAX_INT)] | SkipJsonSchema[None] = None
    min_order_qty: Annotated[int, Field(ge=1, le=MAX_INT)] | SkipJsonSchema[None] = None


class SkuPublic(SkuSpec):
    """A SKU."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
