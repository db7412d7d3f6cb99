"""VMI agreements: which supplier keeps which SKU stocked at which site, on what terms."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from cloud.api.schemas.common import CleanText, Patch
from cloud.catalog import AgreementSpec, LevelUnit
from cloud.catalog.schema import Code

_EXAMPLE: JsonDict = {
    "supplier": "fastenal",
    "site": "acme-north",
    "sku": "BOLT-M8",
    "lead_time_days": 2.0,
    "lead_time_sigma_days": 0.5,
    "service_level": 0.95,
    "review_period_days": 1.0,
    "min_level": 3.0,
    "max_level": 10.0,
    "level_unit": "days_of_supply",
}

_NoNull = SkipJsonSchema[None]


class AgreementCreate(CleanText, AgreementSpec):
    """A new agreement; one per (site, SKU)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class AgreementUpdate(Patch):
    """Changes to an agreement's supplier or terms (its site and SKU cannot change)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"lead_time_days": 3.0}]})

    supplier: Code | _NoNull = None
    lead_time_days: Annotated[float, Field(gt=0, allow_inf_nan=False)] | _NoNull = None
    lead_time_sigma_days: Annotated[float, Field(ge=0, allow_inf_nan=False)] | _NoNull = None
    service_level: Annotated[float, Field(gt=0, lt=1)] | _NoNull = None
    review_period_days: Annotated[float, Field(ge=0, allow_inf_nan=False)] | _NoNull = None
    min_level: Annotated[float, Field(ge=0, allow_inf_nan=False)] | _NoNull = None
    max_level: Annotated[float, Field(gt=0, allow_inf_nan=False)] | _NoNull = None
    level_unit: LevelUnit | _NoNull = None


class AgreementPublic(AgreementSpec):
    """An agreement."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
