"""The collector runs with the stack's own config, broker rules and users.

deploy/cloud.toml is rendered by config-init and only its service addresses
are moved to the local test servers (each must occur as often as expected:
the config names the stack's services and nothing else). config-init also
loads deploy/catalog.yaml into the catalog database and makes the broker's
users from it. The real `vmi cloud run` then connects to a Mosquitto started
from deploy/mosquitto/mosquitto.conf as `vmi-cloud`, a gateway of the catalog
publishes a reading under its own MQTT user, the collector finds it in the
catalog, and the level lands in InfluxDB; /health, which the container's
health check asks, says ok.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cloud.catalog import read_catalog_file
from tests.deploy.stack import CATALOG, Client, StackBroker, catalog_url, device_passwords, run_init
from tests.servers import InfluxServer, free_port
from vmi.wire import Reading, ReadingsBatch, encode, readings_topic

VMI = Path(sys.executable).with_name("vmi")
DEADLINE_S = 30.0
# deploy/edge.toml's gateway.
(GATEWAY,) = [d for d in read_catalog_file(CATALOG).devices if d.code == "gw-acme-north-01"]


def _replace_once(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) == count, f"{old!r} should occur {count}x in the rendered cloud.toml"
    return text.replace(old, new)


@pytest.fixture(scope="module")
def collector(
    tmp_path_factory: pytest.TempPathFactory, influxdb: InfluxServer
) -> Iterator[tuple[StackBroker, Path, str, int]]:
    tmp_path = tmp_path_factory.mktemp("stack-collector")
    done = run_init(tmp_path)
    assert done.returncode == 0, done.stderr
    database = "stack" + uuid.uuid4().hex[:10]
    metrics_port = free_port()
    config = (tmp_path / "config" / "cloud.toml").read_text()
    config = _replace_once(
        config, "@influxdb:8086/vmi", f"@127.0.0.1:{influxdb.http_port}/{database}"
    )
    # The orders database is also the catalog's, which config-init loaded here.
    config = _replace_once(config, "sqlite:////var/lib/vmi/orders.db", catalog_url(tmp_path), 2)
    config = _replace_once(config, '"0.0.0.0:9108"', f'"127.0.0.1:{metrics_port}"')
    with StackBroker(tmp_path / "mosquitto", tmp_path / "auth") as broker:
        config = _replace_once(config, "@mosquitto:1883", f"@127.0.0.1:{broker.port}")
        path = tmp_path / "cloud.toml"
        path.write_text(config)
        log = (tmp_path / "collector.log").open("wb")
        process = subprocess.Popen(
            [str(VMI), "cloud", "run", "--config", str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield broker, tmp_path, database, metrics_port
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
            log.close()


def _wait_for(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} within {DEADLINE_S:.0f} s")


def test_collector_reports_healthy_once_connected_as_vmi_cloud(
    collector: tuple[StackBroker, Path, str, int],
) -> None:
    _, _, _, port = collector
    url = f"http://127.0.0.1:{port}/health"
    _wait_for("/health answers 200", lambda: httpx.get(url, timeout=2).status_code == 200)


def test_a_gateways_reading_reaches_influxdb_through_the_stack(
    collector: tuple[StackBroker, Path, str, int], influxdb: InfluxServer
) -> None:
    broker, tmp_path, database, port = collector
    _wait_for(
        "the collector connects",
        lambda: httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200,
    )
    now = datetime.now(UTC)
    batch = ReadingsBatch(
        site=GATEWAY.site,
        device=GATEWAY.code,
        seq=1,
        sent_at=now,
        readings=[Reading(time=now, location="A-01", sku="BOLT-M8", quantity=42.0, source="scale")],
    )
    gateway = Client(broker, GATEWAY.code, device_passwords(tmp_path)[GATEWAY.code])
    try:
        assert gateway.accepted()
        gateway.publish(readings_topic(GATEWAY.site, GATEWAY.code), encode(batch))
    finally:
        gateway.close()

    def stored() -> bool:
        answer = httpx.get(
            f"{influxdb.url}/query",
            params={"db": database, "q": 'SELECT "quantity" FROM "stock_level"'},
            timeout=5,
        ).json()
        series = answer["results"][0].get("series", [])
        return bool(series) and series[0]["values"][0][1] == 42.0

    _wait_for("the level is in InfluxDB", stored)
