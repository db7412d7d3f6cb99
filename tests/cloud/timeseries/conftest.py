"""Fixtures of the TimeSeriesStore tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cloud.timeseries import InfluxStore, SqliteStore, TimeSeriesStore


@pytest.fixture(params=["influx", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TimeSeriesStore]:
    """Each implementation, empty; InfluxDB gets a database of its own."""
    if request.param == "sqlite":
        sqlite = SqliteStore(tmp_path / "levels.db")
        yield sqlite
        sqlite.close()
        return
    url: str = request.getfixturevalue("influx_db_url")
    influx = InfluxStore(url)
    influx.ensure_database()
    yield influx
    influx.close()
    # Drop it so the session server stays small.
    server = url.rsplit("/", 1)[0]
    httpx.post(f"{server}/query", params={"q": f'DROP DATABASE "{influx.database}"'})
