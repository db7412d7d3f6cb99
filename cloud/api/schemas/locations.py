"""Locations: shelves and bins of a site."""

from __future__ import annotations

from pydantic import ConfigDict
from pydantic.json_schema import SkipJsonSchema

from cloud.api.schemas.common import CleanText, Patch
from cloud.catalog import LocationKind, LocationSpec
from cloud.catalog.schema import Code, Name


class LocationCreate(CleanText):
    """A new location of the site named in the path."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"code": "A-01", "kind": "shelf", "description": "M8"}]},
    )

    code: Code
    kind: LocationKind = LocationKind.SHELF
    description: Name | None = None


class LocationUpdate(Patch):
    """Changes to a location (its site and code cannot change)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"kind": "bin"}]})

    kind: LocationKind | SkipJsonSchema[None] = None
    description: Name | None = None


class LocationPublic(LocationSpec):
    """A location."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"site": "acme-north", "code": "A-01", "kind": "shelf"}]}
    )
