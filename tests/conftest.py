"""Shared fixtures: real test servers (see tests/servers.py) and unique names.

SQL code is tested on both databases it runs on: a test that takes `sql_url`
runs once on an SQLite file and once on a fresh database of the session's
private PostgreSQL server (started only when a test asks for it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import InfluxServer, MosquittoServer, PostgresServer


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    """A private Mosquitto broker for the whole session."""
    with MosquittoServer(tmp_path_factory.mktemp("mosquitto")) as server:
        yield server


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """A private InfluxDB 1.x for the whole session."""
    with InfluxServer(tmp_path_factory.mktemp("influxdb")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the whole session."""
    with PostgresServer(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture
def unique_id() -> str:
    """A short unique name for this test's topics, sites or databases."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def influx_db_url(influxdb: InfluxServer, unique_id: str) -> str:
    """The URL of a database name no other test uses (not created yet)."""
    return influxdb.database_url(unique_id)


@pytest.fixture
def postgres_url(postgres: PostgresServer, unique_id: str) -> Iterator[str]:
    """A fresh, empty database only this test uses: `postgresql+psycopg://...`.

    Dropped afterwards (with FORCE, so pools a test left open do not block it).
    """
    url = postgres.create_database(unique_id)
    yield url
    postgres.drop_database(unique_id)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An SQLite file URL in this test's temporary directory (file not created yet)."""
    return f"sqlite:///{tmp_path / 'vmi.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest) -> str:
    """An empty SQL database of each kind in turn: the test runs on both."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "postgres_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url
