"""Customers: whose sites hold the stock."""

from __future__ import annotations

from pydantic import ConfigDict
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from cloud.api.schemas.common import CleanText, Patch
from cloud.catalog import CustomerSpec
from cloud.catalog.schema import Name

_EXAMPLE: JsonDict = {"code": "acme", "name": "ACME Manufacturing"}


class CustomerCreate(CleanText, CustomerSpec):
    """A new customer."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})


class CustomerUpdate(Patch):
    """Changes to a customer (its code cannot change)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "ACME Inc."}]})

    name: Name | SkipJsonSchema[None] = None


class CustomerPublic(CustomerSpec):
    """A customer."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})
