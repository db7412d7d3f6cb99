"""Devices: gateways, scales and readers registered at a site, with what each reports."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from cloud.api.schemas.common import CleanText, Patch
from cloud.catalog import BindingSpec, DeviceKind, DeviceSpec
from cloud.catalog.schema import Code

_EXAMPLE: JsonDict = {
    "code": "gw-01",
    "site": "acme-north",
    "kind": "gateway",
    "bindings": [{"location": "A-01", "sku": "BOLT-M8"}],
}


class DeviceCreate(CleanText, DeviceSpec):
    """A new device; `bindings` name locations of its site."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class DeviceUpdate(Patch):
    """Changes to a device; `bindings`, when given, replace all of them."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"bindings": [{"location": "A-02", "sku": "NUT-M8"}]}]}
    )

    site: Code | SkipJsonSchema[None] = None
    kind: DeviceKind | SkipJsonSchema[None] = None
    bindings: Annotated[tuple[BindingSpec, ...], Field(max_length=1000)] | SkipJsonSchema[None] = (
        None
    )


class DevicePublic(DeviceSpec):
    """A device."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
