"""Fuzz the API from its own OpenAPI schema (schemathesis, in-process ASGI).

Every operation gets generated requests (valid and invalid) with an admin
key, against a database seeded with the schema's own example codes, so the
examples reach real objects. Every answer must be documented (status code,
content type, body schema) and none may be a server error. Bounded: a few
dozen examples per operation, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cloud.api import create_app
from cloud.api.context import ApiContext
from cloud.api.routes import ROUTERS
from cloud.api.security import Role
from cloud.suggest.suggest import Effect, Flag, Suggestion, Terms
from cloud.timeseries import LevelPoint
from cloud.timeseries.measurements import ALERT, PROJECTION
from tests.cloud.api.conftest import api_settings_for, bearer, new_token
from tests.servers import PostgresServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25


def seed(client: TestClient, context: ApiContext, headers: dict[str, str]) -> None:
    """The codes the OpenAPI examples use, so generated requests find real objects."""
    for path, body in (
        ("/customers", {"code": "acme", "name": "ACME"}),
        ("/suppliers", {"code": "fastenal", "name": "Fastenal"}),
        ("/sites", {"code": "acme-north", "customer": "acme"}),
        ("/sites/acme-north/locations", {"code": "A-01"}),
        ("/skus", {"code": "BOLT-M8", "pack_size": 50}),
        (
            "/agreements",
            {
                "supplier": "fastenal",
                "site": "acme-north",
                "sku": "BOLT-M8",
                "lead_time_days": 2,
                "service_level": 0.95,
                "min_level": 3,
                "max_level": 10,
            },
        ),
        (
            "/devices",
            {
                "code": "gw-01",
                "site": "acme-north",
                "bindings": [{"location": "A-01", "sku": "BOLT-M8"}],
            },
        ),
    ):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.text
    now = datetime.now(UTC)
    context.store.write_levels(
        [
            LevelPoint("acme-north", "gw-01", "A-01", "BOLT-M8", now - timedelta(hours=h), 40.0 - h)
            for h in range(5)
        ]
    )
    context.store.write_points(
        [
            PROJECTION.point(
                tags={"site": "acme-north", "sku": "BOLT-M8", "supplier": "fastenal"},
                fields={"on_hand": 36.0, "rate_per_day": 20.0},
                time=now - timedelta(minutes=1),
            ),
            ALERT.point(
                tags={"site": "acme-north", "sku": "BOLT-M8", "kind": "reorder"},
                fields={"message": "reorder", "order_id": 1},
                time=now - timedelta(minutes=1),
            ),
        ]
    )
    for i in range(3):
        context.orders.create(
            site="acme-north",
            sku=f"SKU-{i}",
            quantity=10,
            reason="fuzz",
            on_hand=1.0,
            rate_per_day=1.0,
            at=now,
            supplier="fastenal",
        )
    # Suggestions #1-#3: better terms for the agreement, for a pair with no
    # agreement, and flags only.
    terms, effect = Terms(0.95, 0.0, 3.0, 10.0), Effect(6.0, 0.97, 4.0, 50.0)
    better = Terms(0.99, 7.0, 4.0, 12.0)
    context.suggestions.record(
        [
            Suggestion("acme-north", "BOLT-M8", terms, effect, better, effect, 0.98),
            Suggestion("acme-north", "SKU-0", terms, effect, better, effect, 0.98),
            Suggestion("acme-north", "SKU-1", terms, effect, None, None, 0.98, (Flag.DEAD_STOCK,)),
        ],
        ["fastenal", None, None],
        now,
        window_days=90,
    )


class FuzzedApi:
    def __init__(self, app: FastAPI, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", app)


def _api(database_url: str, tmp: Path) -> Iterator[FuzzedApi]:
    # Short streams: a generated request to /stream must end by itself.
    app = create_app(api_settings_for(database_url, tmp, stream_max_s=0.3, stream_poll_s=0.1))
    with TestClient(app) as client:
        context: ApiContext = app.state.context
        headers = bearer(new_token(context, Role.ADMIN))
        seed(client, context, headers)
        yield FuzzedApi(app, headers)


@pytest.fixture(scope="module")
def sqlite_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedApi]:
    tmp = tmp_path_factory.mktemp("fuzz-sqlite")
    yield from _api(f"sqlite:///{tmp / 'vmi.db'}", tmp)


@pytest.fixture(scope="module")
def postgres_api(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzedApi]:
    tmp = tmp_path_factory.mktemp("fuzz-postgres")
    name = "fuzz_" + tmp.name.replace("-", "_")
    url = postgres.create_database(name)
    try:
        yield from _api(url, tmp)
    finally:
        postgres.drop_database(name)


OPERATIONS = sorted(
    (method, route.path)
    for router in ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
)

_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


def fuzz(api: FuzzedApi, method: str, path: str) -> None:
    operation = api.schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @_settings
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=api.headers, checks=CHECKS)

    run()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_fuzz_on_sqlite(sqlite_api: FuzzedApi, method: str, path: str) -> None:
    fuzz(sqlite_api, method, path)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_fuzz_on_postgres(postgres_api: FuzzedApi, method: str, path: str) -> None:
    fuzz(postgres_api, method, path)
