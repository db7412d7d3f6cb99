"""Fixtures of the API tests: an app on a real database (`sql_url`: SQLite and
PostgreSQL) with an SQLite time-series store, a client, and an admin key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cloud.api import ApiSettings, create_app
from cloud.api.context import ApiContext
from cloud.api.security import Role


def api_settings_for(database_url: str, tmp_path: Path, **changes: object) -> ApiSettings:
    """Settings for a test app: its own databases, a fast and short live stream."""
    values: dict[str, object] = {
        "database_url": database_url,
        "timeseries_url": f"sqlite:///{tmp_path / 'levels.db'}",
        "stream_poll_s": 0.1,
        "stream_max_s": 5.0,
        **changes,
    }
    return ApiSettings.model_validate(values)


@pytest.fixture
def api_settings(sql_url: str, tmp_path: Path) -> ApiSettings:
    return api_settings_for(sql_url, tmp_path)


@pytest.fixture
def app(api_settings: ApiSettings) -> FastAPI:
    return create_app(api_settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:  # the lifespan closes the app's stores at the end
        yield client


@pytest.fixture
def context(app: FastAPI) -> ApiContext:
    ctx: ApiContext = app.state.context
    return ctx


def new_token(context: ApiContext, role: Role, tenant: str | None = None, **kw: object) -> str:
    """A fresh API key's token."""
    _, token = context.keys.create(
        role=role,
        tenant=tenant,
        name=f"{role.value} {tenant or ''}",
        at=datetime.now(UTC),
        **kw,  # type: ignore[arg-type]
    )
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(context: ApiContext) -> dict[str, str]:
    """Headers of an admin key."""
    return bearer(new_token(context, Role.ADMIN))
