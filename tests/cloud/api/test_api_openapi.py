"""The OpenAPI document: every operation documented (errors included), every
request example valid, lists shaped `{data, count}`."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from cloud.api.routes import ROUTERS
from cloud.api.schemas import (
    agreements,
    api_keys,
    customers,
    devices,
    kpis,
    levels,
    locations,
    orders,
    projections,
    sites,
    skus,
    suggestions,
    suppliers,
    webhooks,
)

NO_KEY = {"/health", "/metrics", "/connectors/{link}/hook"}  # the hook has its own token


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_every_operation_is_documented(openapi: dict[str, Any]) -> None:
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("description") or operation.get("summary"), where
            assert operation.get("tags"), where
            if path not in NO_KEY:
                assert {"401", "403", "503"} <= set(operation["responses"]), where
                assert operation.get("security") == [{"ApiKey": []}], where
            if path == "/connectors/{link}/hook":
                assert "401" in operation["responses"], where  # an unknown link is 401 too
            elif "{" in path:
                assert "404" in operation["responses"] or "api-keys" in path, where


def test_lists_are_pages(openapi: dict[str, Any], app: FastAPI) -> None:
    schemas = openapi["components"]["schemas"]
    pages = [name for name in schemas if name.startswith("Page")]
    assert len(pages) >= 10
    for name in pages:
        assert set(schemas[name]["required"]) == {"data", "count"}, name


def _models() -> list[type[BaseModel]]:
    modules = (agreements, api_keys, customers, devices, kpis, levels, locations, orders)
    modules += (projections, sites, skus, suggestions, suppliers, webhooks)
    return [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    ]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_examples_are_valid(model: type[BaseModel]) -> None:
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples", []) if isinstance(extra, dict) else []
    for example in examples:
        model.model_validate(example)


def test_every_request_body_has_an_example() -> None:
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if route.body_field is None:
                continue
            model = route.body_field.field_info.annotation
            assert isinstance(model, type)
            assert issubclass(model, BaseModel)
            extra = model.model_config.get("json_schema_extra")
            assert isinstance(extra, dict), f"{route.path}: {model.__name__} has no example"
            assert extra.get("examples"), f"{route.path}: {model.__name__} has no example"
