"""open_store picks the store from its URL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cloud.timeseries import InfluxStore, LevelPoint, SqliteStore, open_store
from tests.servers import InfluxServer
from vmi.errors import ConfigError

POINT = LevelPoint(
    site="s1", device="d1", location="A", sku="X", time=datetime(2024, 5, 1, tzinfo=UTC), quantity=1
)


def test_http_url_opens_influx_and_creates_the_database(
    influxdb: InfluxServer, influx_db_url: str, unique_id: str
) -> None:
    store = open_store(influx_db_url)
    try:
        assert isinstance(store, InfluxStore)
        answer = httpx.get(f"{influxdb.url}/query", params={"q": "SHOW DATABASES"}).json()
        assert [unique_id] in answer["results"][0]["series"][0]["values"]
        store.write_levels([POINT])
        assert store.latest_levels() == [POINT]
    finally:
        store.close()


def test_sqlite_url_opens_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "sub dir" / "levels.db"
    store = open_store(f"sqlite:///{path}")  # an absolute path gives four slashes
    try:
        assert isinstance(store, SqliteStore)
        assert store.path == path
        store.write_levels([POINT])
    finally:
        store.close()
    assert path.exists()
    reopened = open_store(f"sqlite:///{path}")
    assert reopened.latest_levels() == [POINT]
    reopened.close()


def test_sqlite_url_may_be_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///data/levels.db")
    store.close()
    assert (tmp_path / "data" / "levels.db").exists()


@pytest.mark.parametrize(
    "url",
    ["", "levels.db", "postgres://h/db", "sqlite://host/x.db", "sqlite:///", "http://h:8086"],
)
def test_other_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)
