"""Nothing lost between broker and InfluxDB, whatever fails in between.

Each test streams a fixed workload of readings through a real Mosquitto to
real `vmi cloud run` processes into a real InfluxDB, breaks something
mid-stream (kills a collector with SIGKILL, stops InfluxDB or the broker for
30 s), repairs it, and asserts that every reading sent is in InfluxDB exactly
once with its value, and nothing else is.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.timeseries import open_store
from tests.servers import InfluxServer, MosquittoServer
from tests.waiting import wait_for as _wait_for
from vmi.wire import Reading, ReadingsBatch, encode, readings_topic

# These waits poll servers: every 0.2 s is enough.
wait_for = functools.partial(_wait_for, poll_s=0.2)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

MESSAGES = 300
PER_MESSAGE = 10
OUTAGE_S = 30.0
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


class Rig:
    """Private broker and InfluxDB, collectors as child processes, a workload."""

    def __init__(self, tmp: Path, site: str) -> None:
        self.tmp = tmp
        self.site = site
        self.broker = MosquittoServer(tmp / "mosquitto")
        self.influx = InfluxServer(tmp / "influx")
        self.collectors: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        self.broker.start()
        self.influx.start()
        self.db_url = self.influx.database_url("faults")
        self.store = open_store(self.db_url)

    def collector(self, name: str, *, share_group: str | None = None) -> None:
        """Start (or restart) collector `name`; same name, same MQTT session."""
        config = self.tmp / f"{name}.toml"
        group = f'share_group = "{share_group}"\n' if share_group else ""
        config.write_text(
            f'[mqtt]\nurl = "{self.broker.url}"\nclient_id = "{self.site}-{name}"\n{group}'
            f'[store]\nurl = "{self.db_url}"\n'
            f'[orders]\nurl = "sqlite:///{self.tmp / "orders.db"}"\n'
        )
        self.collectors[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vmi.cli",
                "--log-level",
                "info",
                "cloud",
                "run",
                "--config",
                str(config),
            ],
            stdout=open(self.tmp / f"{name}.log", "ab"),  # noqa: SIM115 - the child owns it
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def wait_ingesting(self, names: list[str]) -> None:
        """Until the collectors are subscribed, messages have no session to wait in."""
        for name in names:
            log = self.tmp / f"{name}.log"
            wait_for(lambda log=log: "subscribed to" in log.read_text(), 20, f"{name} to subscribe")
        probe_site = f"{self.site}-probe"
        client = mqtt.Client(CallbackAPIVersion.VERSION2)
        client.connect("127.0.0.1", self.broker.port)
        client.loop_start()
        reading = Reading(time=T0, location="P", sku="P", quantity=1)
        batch = ReadingsBatch(
            site=probe_site, device="p", seq=1, sent_at=datetime.now(UTC), readings=[reading]
        )

        def stored() -> bool:
            client.publish(readings_topic(probe_site, "p"), encode(batch), qos=1)
            time.sleep(0.2)
            return bool(self.store.level_series(probe_site, "P", T0 - timedelta(minutes=1)))

        try:
            wait_for(stored, 30, "a probe message in InfluxDB")
        finally:
            client.disconnect()
            client.loop_stop()

    def kill(self, name: str) -> None:
        proc = self.collectors[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stored(self) -> list[tuple[datetime, float]]:
        points = self.store.level_series(self.site, "X", T0 - timedelta(minutes=1))
        return sorted((p.time, p.quantity) for p in points)

    def stop(self) -> None:
        for proc in self.collectors.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        self.store.close()
        self.broker.stop()
        self.influx.stop()

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp.glob("*.log")))


def expected() -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(milliseconds=i), float(i)) for i in range(MESSAGES * PER_MESSAGE)]


class Workload:
    """Publishes MESSAGES readings messages at QoS 1 from a thread, evenly over
    `duration_s`; paho queues and resends across a broker outage."""

    def __init__(self, rig: Rig, duration_s: float) -> None:
        self.rig = rig
        self.duration_s = duration_s
        self.sent = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{rig.site}-pub")
        self._client.reconnect_delay_set(0.2, 1)
        self._client.max_queued_messages_set(0)  # unbounded: the test owns the bound
        self._client.connect("127.0.0.1", rig.broker.port)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Workload:
        self._thread.start()
        return self

    def _run(self) -> None:
        topic = readings_topic(self.rig.site, "d1")
        for m in range(MESSAGES):
            first = m * PER_MESSAGE
            batch = ReadingsBatch(
                site=self.rig.site,
                device="d1",
                seq=m + 1,
                sent_at=datetime.now(UTC),
                readings=[
                    Reading(
                        time=T0 + timedelta(milliseconds=i),
                        location="A",
                        sku="X",
                        quantity=float(i),
                    )
                    for i in range(first, first + PER_MESSAGE)
                ],
            )
            self._client.publish(topic, encode(batch), qos=1)
            self.sent += 1
            time.sleep(self.duration_s / MESSAGES)

    def wait_sent(self) -> None:
        self._thread.join(self.duration_s + OUTAGE_S + 60)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def rig(tmp_path: Path, unique_id: str) -> Iterator[Rig]:
    r = Rig(tmp_path, unique_id)
    r.start()
    yield r
    r.stop()


def assert_exactly_once(rig: Rig) -> None:
    want = expected()
    wait_for(lambda: len(rig.stored()) >= len(want), 90, f"{len(want)} readings in InfluxDB")
    time.sleep(1.0)  # a straggling duplicate would show up now
    assert rig.stored() == want, "every reading exactly once, with its value"
    assert "Traceback" not in rig.logs()


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
