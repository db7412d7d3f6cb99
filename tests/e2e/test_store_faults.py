"""The store fails in ways that are not about the data, and nothing is lost.

A real `vmi cloud run` process streams a workload from a real Mosquitto into a
real InfluxDB while the store: loses its database (dropped mid-stream, then
created again by the collector, or by the operator where the collector may
not); refuses the collector's password (changed on the server, then changed
back); answers 503 for a while (a stand-in proxy before the real server).
Each ends with every reading sent after the fault in InfluxDB exactly once with
its value, and `/metrics` said why the store was unavailable meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.fault_rig import (
    ADMIN,
    ADMIN_PASSWORD,
    COLLECTOR,
    COLLECTOR_PASSWORD,
    MESSAGES,
    Rig,
    Workload,
    assert_exactly_once,
    scrape,
    wait_for,
)
from tests.servers import free_port
from tests.store_proxy import StoreProxy

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

HALF = MESSAGES // 2
AS_ADMIN = (ADMIN, ADMIN_PASSWORD)


def store_down_because(port: int, reason: str) -> bool:
    samples = scrape(port)
    failures = samples.get(f'vmi_collector_store_failures_total{{reason="{reason}"}}', 0.0)
    return samples.get("vmi_collector_store_up") == 0 and failures > 0


def first_half_stored(rig: Rig) -> None:
    load = Workload(rig, duration_s=3, first=0, count=HALF).start()
    load.wait_sent()
    assert_exactly_once(rig, 0, HALF)
    load.close()


@pytest.fixture
def auth_rig(tmp_path: Path, unique_id: str) -> Iterator[Rig]:
    r = Rig(tmp_path, unique_id, influx_auth=True)
    r.start()
    yield r
    r.stop()


@pytest.mark.parametrize("collector_creates", [True, False])
def test_database_dropped_mid_stream_and_created_again(rig: Rig, collector_creates: bool) -> None:
    port = free_port()
    rig.collector("c1", create_database=collector_creates, metrics_port=port)
    rig.wait_ingesting(["c1"])
    first_half_stored(rig)
    rig.influx.query('DROP DATABASE "faults"')  # the first half goes with it
    load = Workload(rig, duration_s=5, first=HALF, count=MESSAGES - HALF).start()
    wait_for(lambda: store_down_because(port, "database_missing"), 30, "the store down")
    if not collector_creates:
        wait_for(lambda: scrape(port)["vmi_collector_in_flight"] > 0, 30, "held")
        rig.influx.query('CREATE DATABASE "faults"')  # the operator repairs it
    load.wait_sent()
    assert_exactly_once(rig, HALF, MESSAGES - HALF)
    after = scrape(port)
    assert after["vmi_collector_store_up"] == 1
    assert after["vmi_collector_databases_created_total"] == (1 if collector_creates else 0)
    assert not any(k.startswith("vmi_collector_rejected_total") for k in after), after
    load.close()


def test_collector_password_changed_then_fixed(auth_rig: Rig) -> None:
    rig = auth_rig
    port = free_port()
    rig.collector("c1", metrics_port=port)
    rig.wait_ingesting(["c1"])
    first_half_stored(rig)
    rig.influx.query(f"SET PASSWORD FOR \"{COLLECTOR}\" = 'rotated'", user=AS_ADMIN)
    load = Workload(rig, duration_s=5, first=HALF, count=MESSAGES - HALF).start()
    wait_for(lambda: store_down_because(port, "unauthorized"), 30, "the store refusing")
    load.wait_sent()
    rig.influx.query(f"SET PASSWORD FOR \"{COLLECTOR}\" = '{COLLECTOR_PASSWORD}'", user=AS_ADMIN)
    assert_exactly_once(rig, 0, MESSAGES)
    assert scrape(port)["vmi_collector_store_up"] == 1
    assert not any(k.startswith("vmi_collector_rejected_total") for k in scrape(port))
    load.close()


def test_store_answering_503_for_a_while(rig: Rig) -> None:
    port = free_port()
    with StoreProxy(rig.influx.url) as proxy:
        rig.collector("c1", store_url=f"{proxy.url}/faults", metrics_port=port)
        rig.wait_ingesting(["c1"])
        first_half_stored(rig)
        load = Workload(rig, duration_s=5, first=HALF, count=MESSAGES - HALF).start()
        with proxy.failing(503):
            wait_for(lambda: store_down_because(port, "http_503"), 30, "the store failing")
            wait_for(lambda: proxy.failed >= 3, 30, "a few retries")
        load.wait_sent()
        assert_exactly_once(rig, 0, MESSAGES)
        assert scrape(port)["vmi_collector_store_up"] == 1
        assert not any(k.startswith("vmi_collector_rejected_total") for k in scrape(port))
        load.close()
