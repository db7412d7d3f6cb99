"""Which InfluxDB answers are about the data and which about the server.

A stand-in proxy before the session's real InfluxDB answers the statuses
InfluxDB and its 2.x/3.x compatibility APIs use; only a refusal of the lines
themselves (400, 422) is `StoreRejected`. Everything else is `StoreUnavailable`
with a reason to count, so the collector keeps the data and retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud.config import StoreConfig
from cloud.errors import StoreRejected, StoreUnavailable
from cloud.timeseries import InfluxStore, LevelPoint, open_store
from tests.servers import InfluxServer
from tests.store_proxy import StoreProxy

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def points(n: int) -> list[LevelPoint]:
    return [
        LevelPoint("s1", "d1", "A-01", "SKU-1", T0 + timedelta(seconds=i), float(i))
        for i in range(n)
    ]


@pytest.fixture
def proxy(influxdb: InfluxServer) -> Iterator[StoreProxy]:
    with StoreProxy(influxdb.url) as p:
        yield p


@pytest.fixture
def store(proxy: StoreProxy, unique_id: str) -> Iterator[InfluxStore]:
    s = InfluxStore(f"{proxy.url}/{unique_id}", timeout_s=5.0)
    s.ensure_database()
    yield s
    s.close()


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "database_missing"),
        (408, "http_408"),
        (429, "http_429"),
        (500, "http_500"),
        (502, "http_502"),
        (503, "http_503"),
    ],
)
def test_server_failures_are_unavailable(
    store: InfluxStore, proxy: StoreProxy, status: int, reason: str
) -> None:
    with proxy.failing(status):
        with pytest.raises(StoreUnavailable) as write:
            store.write_levels(points(1))
        with pytest.raises(StoreUnavailable) as query:
            store.latest_levels()
    assert write.value.reason == query.value.reason == reason
    assert str(status) in str(write.value)
    store.write_levels(points(1))  # and it works again afterwards
    assert len(store.latest_levels()) == 1


@pytest.mark.parametrize("status", [400, 422])
def test_a_refusal_of_the_lines_is_rejected(
    store: InfluxStore, proxy: StoreProxy, status: int
) -> None:
    proxy.script([status])
    with pytest.raises(StoreRejected, match=str(status)):
        store.write_levels(points(1))


def test_a_write_too_large_for_the_server_goes_in_halves(
    store: InfluxStore, proxy: StoreProxy
) -> None:
    proxy.max_body = 2_000  # gzip bytes: a few hundred lines
    many = points(5_000)
    store.write_levels(many)
    assert store.level_series("s1", "SKU-1", T0) == many
    assert len(proxy.write_sizes) > 2, "split into several writes"
    assert max(proxy.write_sizes) <= 2_000
    assert proxy.failed >= 1, "the first, whole write was refused with 413"


def test_a_single_line_too_large_is_unavailable(store: InfluxStore, proxy: StoreProxy) -> None:
    proxy.max_body = 10  # nothing fits: a misconfigured server, not bad data
    with pytest.raises(StoreUnavailable) as caught:
        store.write_levels(points(3))
    assert caught.value.reason == "too_large"


def test_a_token_from_the_config_file_is_sent_as_influxdb_2_and_3_want_it(
    proxy: StoreProxy, unique_id: str, tmp_path: Path
) -> None:
    proxy.token = "s3cret-t0ken"
    token_file = tmp_path / "influx.token"
    token_file.write_text("s3cret-t0ken\n")
    config = StoreConfig(url=f"{proxy.url}/{unique_id}", token_file=token_file)
    store = open_store(config.url, token=config.token_value())
    store.write_levels(points(2))
    assert len(store.level_series("s1", "SKU-1", T0)) == 2
    store.close()
    wrong = InfluxStore(f"{proxy.url}/{unique_id}", token="stale")
    with pytest.raises(StoreUnavailable) as caught:
        wrong.write_levels(points(1))
    assert caught.value.reason == "unauthorized", "a rotated token is waited out, not bad data"
    wrong.close()


def test_a_token_is_given_once(tmp_path: Path) -> None:
    token_file = tmp_path / "t"
    token_file.write_text("x")
    with pytest.raises(ValueError, match="not both"):
        StoreConfig(url="http://h:8086/db", token="y", token_file=token_file)  # type: ignore[arg-type]
    assert StoreConfig(url="http://h:8086/db", token="y").token_value() == "y"  # type: ignore[arg-type]
    assert StoreConfig().token_value() is None
