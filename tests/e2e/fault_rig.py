"""The fault rig: a private broker and InfluxDB, `vmi cloud run` processes, and a
workload of numbered readings whose arrival, exactly once, the fault tests check."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cloud.timeseries import open_store
from tests.servers import InfluxServer, MosquittoServer
from tests.waiting import wait_for as _wait_for
from vmi.wire import Reading, ReadingsBatch, encode, readings_topic

# These waits poll servers: every 0.2 s is enough.
wait_for = functools.partial(_wait_for, poll_s=0.2)

MESSAGES = 300
PER_MESSAGE = 10
OUTAGE_S = 30.0
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
ADMIN, ADMIN_PASSWORD = "admin", "admin-pass"
COLLECTOR, COLLECTOR_PASSWORD = "vmi", "collector-pass"


class Rig:
    """Private broker and InfluxDB, collectors as child processes, a workload."""

    def __init__(
        self, tmp: Path, site: str, *, influx_auth: bool = False, broker_config: str = ""
    ) -> None:
        """`influx_auth`: InfluxDB with authentication on; the test reads as the
        admin `ADMIN`, collectors write as `COLLECTOR` (see `create_users`).
        `broker_config`: more mosquitto.conf lines."""
        self.tmp = tmp
        self.site = site
        self.broker = MosquittoServer(tmp / "mosquitto", extra_config=broker_config)
        self.influx = InfluxServer(tmp / "influx", auth=influx_auth)
        self.influx_auth = influx_auth
        self.collectors: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        self.broker.start()
        self.influx.start()
        url = self.influx.database_url("faults")
        self.db_url = url  # the collectors'
        if self.influx_auth:
            self.influx.create_users({ADMIN: ADMIN_PASSWORD, COLLECTOR: COLLECTOR_PASSWORD})
            self.db_url = _with_login(url, COLLECTOR, COLLECTOR_PASSWORD)
            url = _with_login(url, ADMIN, ADMIN_PASSWORD)
        self.store = open_store(url)  # the test's

    def collector(
        self,
        name: str,
        *,
        share_group: str | None = None,
        store_url: str | None = None,
        create_database: bool = True,
        metrics_port: int | None = None,
        top_level: str = "",
    ) -> None:
        """Start (or restart) collector `name`; same name, same MQTT session.

        `store_url`: write there instead of the rig's InfluxDB (a proxy before it);
        `top_level`: more settings for the top of the config file.
        """
        config = self.tmp / f"{name}.toml"
        group = f'share_group = "{share_group}"\n' if share_group else ""
        metrics = f'[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n' if metrics_port else ""
        config.write_text(
            f"{top_level}"
            f'[mqtt]\nurl = "{self.broker.url}"\nclient_id = "{self.site}-{name}"\n{group}'
            f'[store]\nurl = "{store_url or self.db_url}"\n'
            f"create_database = {str(create_database).lower()}\n"
            f'[orders]\nurl = "sqlite:///{self.tmp / "orders.db"}"\n'
            f"{metrics}"
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


def expected(first: int = 0, count: int = MESSAGES) -> list[tuple[datetime, float]]:
    """The readings of messages `first` to `first + count - 1`."""
    readings = range(first * PER_MESSAGE, (first + count) * PER_MESSAGE)
    return [(T0 + timedelta(milliseconds=i), float(i)) for i in readings]


class Workload:
    """Publishes `count` readings messages (numbered from `first`) at QoS 1 from a
    thread, evenly over `duration_s`; paho queues and resends across a broker outage."""

    def __init__(
        self, rig: Rig, duration_s: float, *, first: int = 0, count: int = MESSAGES
    ) -> None:
        self.rig = rig
        self.duration_s = duration_s
        self.first = first
        self.count = count
        self.sent = 0
        client_id = f"{rig.site}-pub-{first}"
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
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
        for m in range(self.first, self.first + self.count):
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
            time.sleep(self.duration_s / self.count)

    def wait_sent(self) -> None:
        self._thread.join(self.duration_s + OUTAGE_S + 60)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def assert_exactly_once(rig: Rig, first: int = 0, count: int = MESSAGES) -> None:
    """Every reading of messages `first` to `first + count - 1` is stored once with its
    value, and nothing else is (within 90 s)."""
    want = expected(first, count)
    wait_for(lambda: len(rig.stored()) >= len(want), 90, f"{len(want)} readings in InfluxDB")
    time.sleep(1.0)  # a straggling duplicate would show up now
    assert rig.stored() == want, "every reading exactly once, with its value"
    assert "Traceback" not in rig.logs()


def _with_login(url: str, user: str, password: str) -> str:
    return url.replace("http://", f"http://{user}:{password}@", 1)


def scrape(port: int) -> dict[str, float]:
    """A collector's `/metrics` on `port`: sample name (with labels) -> value."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    pairs = (line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    return {name: float(value) for name, value in pairs}
