"""Fixtures of the portal's HTTP tests: the API app with the portal on a real database
(`sql_url`: SQLite and PostgreSQL), the small world, and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cloud.api import create_app
from cloud.api.context import ApiContext
from cloud.portal.web import LIMITER
from tests.cloud.api.conftest import api_settings_for
from tests.cloud.portal.world import PASSWORD, World, make_world

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def app(sql_url: str, tmp_path: Path) -> FastAPI:
    return create_app(api_settings_for(sql_url, tmp_path))


@pytest.fixture
def context(app: FastAPI) -> ApiContext:
    ctx: ApiContext = app.state.context
    return ctx


@pytest.fixture
def world(context: ApiContext) -> World:
    return make_world(context)


@pytest.fixture(autouse=True)
def fresh_limiter() -> Iterator[None]:
    """Each test starts with no failed sign-ins counted (the limiter is per process)."""
    LIMITER._fails.clear()
    yield
    LIMITER._fails.clear()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/portal/login")
    response = client.post(
        "/portal/login",
        data={"csrf": csrf_of(page.text), "login": login, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def people(app: FastAPI) -> Iterator[Callable[..., TestClient]]:
    """Clients with cookies of their own (one per person), signed in as `login` if given.

    One client runs the app's lifespan for the test (it closes the app's stores at
    the end); the others only send requests."""
    with TestClient(app):

        def make(login: str | None = None, password: str = PASSWORD, **options: str) -> TestClient:
            client = TestClient(app, **options)  # type: ignore[arg-type]
            return sign_in(client, login, password) if login else client

        yield make
