"""Nothing lost between broker and InfluxDB, whatever fails in between.

Each test streams a fixed workload of readings through a real Mosquitto to
real `vmi cloud run` processes into a real InfluxDB, breaks something
mid-stream (kills a collector with SIGKILL, stops InfluxDB or the broker for
30 s), repairs it, and asserts that every reading sent is in InfluxDB exactly
once with its value, and nothing else is.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.fault_rig import OUTAGE_S, Rig, Workload, assert_exactly_once, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_collector_killed_mid_stream_then_restarted(rig: Rig) -> None:
    rig.collector("c1")
    rig.wait_ingesting(["c1"])
    load = Workload(rig, duration_s=10).start()
    wait_for(lambda: len(rig.stored()) > 500, 30, "ingest to be under way")
    rig.kill("c1")
    time.sleep(2)  # messages pile up at the broker for the dead collector's session
    rig.collector("c1")
    load.wait_sent()
    assert_exactly_once(rig)
    load.close()


def test_influxdb_down_for_30_s_mid_stream(rig: Rig) -> None:
    rig.collector("c1")
    rig.wait_ingesting(["c1"])
    load = Workload(rig, duration_s=10).start()
    wait_for(lambda: len(rig.stored()) > 500, 30, "ingest to be under way")
    rig.influx.stop()
    time.sleep(OUTAGE_S)
    rig.influx.start()
    load.wait_sent()
    assert_exactly_once(rig)
    assert "store unavailable" in rig.logs()
    load.close()


def test_broker_down_for_30_s_mid_stream(rig: Rig) -> None:
    rig.collector("c1")
    rig.wait_ingesting(["c1"])
    load = Workload(rig, duration_s=10).start()
    wait_for(lambda: len(rig.stored()) > 500, 30, "ingest to be under way")
    rig.broker.stop()
    time.sleep(OUTAGE_S)
    rig.broker.start()
    load.wait_sent()
    assert_exactly_once(rig)
    load.close()


def test_two_collectors_share_the_load_and_one_is_killed(rig: Rig) -> None:
    rig.collector("c1", share_group="vmi")
    rig.collector("c2", share_group="vmi")
    rig.wait_ingesting(["c1", "c2"])
    load = Workload(rig, duration_s=10).start()
    wait_for(lambda: len(rig.stored()) > 500, 30, "ingest to be under way")
    rig.kill("c2")
    load.wait_sent()
    # What c2 had received but not acknowledged waits in its session.
    rig.collector("c2", share_group="vmi")
    assert_exactly_once(rig)
    c1_log = (rig.tmp / "c1.log").read_text()
    c2_log = (rig.tmp / "c2.log").read_text()
    assert "$share/vmi/" in c1_log
    assert "$share/vmi/" in c2_log
    load.close()
