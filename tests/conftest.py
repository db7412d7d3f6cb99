"""Shared fixtures: real test servers (see tests/servers.py) and unique names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.servers import InfluxServer, MosquittoServer


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


@pytest.fixture
def unique_id() -> str:
    """A short unique name for this test's topics, sites or databases."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def influx_db_url(influxdb: InfluxServer, unique_id: str) -> str:
    """The URL of a database name no other test uses (not created yet)."""
    return influxdb.database_url(unique_id)
