"""InfluxStore against real InfluxDB servers: failures map to the right errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cloud.errors import StoreRejected, StoreUnavailable
from cloud.timeseries import InfluxStore, LevelPoint
from tests.servers import InfluxServer, free_port
from vmi.errors import ConfigError

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
POINT = LevelPoint(site="s1", device="d1", location="A-01", sku="SKU-1", time=T0, quantity=5.0)


@pytest.fixture
def influx(influx_db_url: str) -> Iterator[InfluxStore]:
    store = InfluxStore(influx_db_url, timeout_s=5.0)
    store.ensure_database()
    yield store
    store.close()


def test_unreachable_server_is_unavailable() -> None:
    # Nobody listens on a port we just found free: connection refused.
    store = InfluxStore(f"http://127.0.0.1:{free_port()}/db", timeout_s=2.0)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        store.write_levels([POINT])
    with pytest.raises(StoreUnavailable):
        store.level_series("s1", "SKU-1", T0)
    with pytest.raises(StoreUnavailable):
        store.latest_levels()
    with pytest.raises(StoreUnavailable):
        store.ensure_database()
    store.close()


def test_a_stopped_server_is_unavailable_until_it_returns(tmp_path: Path, unique_id: str) -> None:
    with InfluxServer(tmp_path) as server:
        store = InfluxStore(server.database_url(unique_id), timeout_s=5.0)
        store.ensure_database()
        store.write_levels([POINT])  # leaves a keep-alive connection open
        server.stop()
        with pytest.raises(StoreUnavailable):
            store.write_levels([POINT])
        server.start()
        # The same client recovers from its dead pooled connection.
        store.write_levels([POINT])
        assert store.latest_levels() == [POINT]
        store.close()


def _raw_write(store: InfluxStore, body: str) -> None:
    response = httpx.post(
        f"{store.base_url}/write",
        params={"db": store.database, "precision": "ms"},
        content=body.encode(),
    )
    assert response.status_code == 204, response.text


def test_a_field_type_conflict_is_rejected(influx: InfluxStore) -> None:
    # Make `quantity` a string field first, through the raw HTTP API. InfluxDB
    # 1.x checks field types per shard (a week of data), so the conflicting
    # point must fall in the same week as ours.
    _raw_write(influx, f'stock_level,site=other quantity="many" {int(T0.timestamp() * 1000) + 1}')
    with pytest.raises(StoreRejected, match="field type conflict"):
        influx.write_levels([POINT])


def test_foreign_points_do_not_break_reads(influx: InfluxStore) -> None:
    # In another shard a string `quantity` is accepted; reads must skip it
    # (and points without a quantity) rather than fail or invent levels.
    _raw_write(influx, 'stock_level,site=s1,sku=SKU-1 quantity="many" 1000')
    _raw_write(influx, "stock_level,site=s1,sku=SKU-1 other=1 2000")
    influx.write_levels([POINT])
    assert influx.latest_levels() == [POINT]
    assert influx.level_series("s1", "SKU-1", datetime(1970, 1, 1, tzinfo=UTC)) == [POINT]


def test_a_missing_database_is_unavailable_not_bad_data(
    influxdb: InfluxServer, unique_id: str
) -> None:
    # Regression: HTTP 404 "database not found" was StoreRejected, so the
    # collector dead-lettered and acknowledged everything sent meanwhile.
    store = InfluxStore(influxdb.database_url(unique_id))  # no ensure_database()
    with pytest.raises(StoreUnavailable, match="database not found") as write:
        store.write_levels([POINT])
    assert write.value.reason == "database_missing"
    with pytest.raises(StoreUnavailable, match="database not found") as query:
        store.latest_levels()
    assert query.value.reason == "database_missing"
    store.ensure_database()
    store.write_levels([POINT])
    assert store.latest_levels() == [POINT]
    store.close()


def test_wrong_credentials_are_unavailable_not_bad_data(tmp_path: Path, unique_id: str) -> None:
    with InfluxServer(tmp_path, auth=True) as server:
        server.create_users({"admin": "right"})
        url = server.database_url(unique_id).replace("http://", "http://admin:wrong@")
        store = InfluxStore(url)
        with pytest.raises(StoreUnavailable) as caught:
            store.write_levels([POINT])
        assert caught.value.reason == "unauthorized"
        store.close()
        good = InfluxStore(url.replace(":wrong@", ":right@"))
        good.ensure_database()
        good.write_levels([POINT])
        assert good.latest_levels() == [POINT]
        good.close()


def test_ensure_database_is_idempotent(influx: InfluxStore) -> None:
    influx.write_levels([POINT])
    influx.ensure_database()
    assert influx.latest_levels() == [POINT]


def test_small_batches_store_everything(influx_db_url: str) -> None:
    store = InfluxStore(influx_db_url, batch_lines=3)
    store.ensure_database()
    points = [
        LevelPoint(site="s1", device="d1", location=f"L{i}", sku="SKU-1", time=T0, quantity=i)
        for i in range(10)
    ]
    store.write_levels(points)
    assert store.level_series("s1", "SKU-1", T0) == points
    store.close()


def test_a_quoted_database_name_works(influxdb: InfluxServer, unique_id: str) -> None:
    store = InfluxStore(influxdb.database_url(f"{unique_id}%20it's%22x"))
    assert store.database == f"{unique_id} it's\"x"
    store.ensure_database()
    store.write_levels([POINT])
    assert store.latest_levels() == [POINT]
    store.close()


def test_credentials_in_the_url_are_accepted(influxdb: InfluxServer, unique_id: str) -> None:
    # Auth is off on the test server; the point is that such URLs parse and work.
    url = influxdb.database_url(unique_id).replace("http://", "http://reader:s%40cret@")
    store = InfluxStore(url)
    assert store.base_url == influxdb.url
    store.ensure_database()
    store.write_levels([POINT])
    store.close()


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8086", "http://127.0.0.1:8086/", "ftp://h/db", "http:///db", "http://h/a/b"],
)
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        InfluxStore(url)
