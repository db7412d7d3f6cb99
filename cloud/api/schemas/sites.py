"""Sites: a customer's warehouses and plants (the `<site>` of the MQTT topics)."""

from __future__ import annotations

from pydantic import ConfigDict
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from cloud.api.schemas.common import CleanText, Patch
from cloud.catalog import SiteSpec
from cloud.catalog.schema import Code, Name

_EXAMPLE: JsonDict = {"code": "acme-north", "customer": "acme", "name": "ACME North plant"}


class SiteCreate(CleanText, SiteSpec):
    """A new site of an existing customer."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class SiteUpdate(Patch):
    """Changes to a site (its code cannot change)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "ACME North"}]})

    customer: Code | SkipJsonSchema[None] = None
    name: Name | None = None


class SitePublic(SiteSpec):
    """A site."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
