"""A device that vanishes raises `device_offline` once, and it clears when the
device is back (real processes: `vmi edge run` with an emulated MT-SICS scale,
`vmi cloud run`, a private Mosquitto).

Two ways to vanish: the agent killed with SIGKILL (the broker sees the socket
close and publishes its last will at once), and its network cut (a relay stops
every byte without closing anything: the broker publishes the will after 1.5 x
the keepalive). Each time the collector stores the device as offline and,
after the grace period, the sensor watch raises one `device_offline` alert;
once the device is back the alert is cleared, so the next outage alerts again.
"""

from __future__ import annotations

import functools
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.replenishment.alert_state import AlertState
from firmware_sim.mtsics_scale import MtSicsEmulator
from tests.processes import start_vmi, stop
from tests.servers import MosquittoServer
from tests.tcp_relay import TcpRelay
from tests.waiting import wait_for as _wait_for
from vmi.wire import Alert, DeviceOfflineAlert, alerts_topic, decode_alert, status_topic

wait_for = functools.partial(_wait_for, poll_s=0.1)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

KEEPALIVE_S = 5  # the smallest the edge takes; the broker gives up after 7.5 s
GRACE_S = 2.0


class Watcher:
    """Records a site's alerts and the device's retained status."""

    def __init__(self, port: int, site: str) -> None:
        self.alerts: list[Alert] = []
        self.states: list[str] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self._client.on_connect = lambda c, *_: c.subscribe(
            [(alerts_topic(site), 1), (status_topic(site, "gw"), 1)]
        )
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            if msg.topic.endswith("/alerts"):
                self.alerts.append(decode_alert(msg.payload))
            elif msg.payload:
                self.states.append(json.loads(msg.payload)["state"])

    def offline_alerts(self) -> list[DeviceOfflineAlert]:
        with self._lock:
            return [a for a in self.alerts if isinstance(a, DeviceOfflineAlert)]

    def state(self) -> str | None:
        with self._lock:
            return self.states[-1] if self.states else None

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def scale() -> Iterator[MtSicsEmulator]:
    emulator = MtSicsEmulator()
    emulator.set_load(150.0)
    emulator.start()
    yield emulator
    emulator.stop()


def start_cloud(tmp: Path, broker: MosquittoServer, site: str) -> subprocess.Popen[bytes]:
    config = tmp / "cloud.toml"
    config.write_text(
        f'health_interval_s = 0\n[mqtt]\nurl = "{broker.url}"\nclient_id = "c-{site}"\n'
        f'[store]\nurl = "sqlite:///{tmp / "levels.db"}"\n'
        f'[orders]\nurl = "sqlite:///{tmp / "orders.db"}"\n'
        f"[replenishment]\noffline_grace_s = {GRACE_S}\nsensor_check_s = 0.3\n"
    )
    return start_vmi("cloud", "run", "--config", str(config), log=tmp / "cloud.log")


def start_edge(tmp: Path, port: int, site: str, scale: MtSicsEmulator) -> subprocess.Popen[bytes]:
    config = tmp / "edge.toml"
    config.write_text(
        f'site = "{site}"\ndevice = "gw"\nstate_dir = "{tmp / "state"}"\n'
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{port}"\nkeepalive_s = {KEEPALIVE_S}\n'
        "reconnect_min_s = 0.2\nreconnect_max_s = 1.0\n"
        f'[[scales]]\ntype = "mtsics"\nport = "{scale.port}"\nlocation = "A-01"\n'
        'sku = "X"\nitem_weight_g = 10.0\ntare_g = 100.0\npoll_interval_s = 0.2\n'
    )
    return start_vmi("edge", "run", "--config", str(config), log=tmp / "edge.log")


def active_offline(tmp: Path, site: str) -> bool:
    state = AlertState(f"sqlite:///{tmp / 'orders.db'}")
    try:
        return any(a.kind == "device_offline" for a in state.active(site))
    finally:
        state.close()


def test_a_vanished_device_alerts_once_and_clears_when_back(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str, scale: MtSicsEmulator
) -> None:
    site = unique_id
    watcher = Watcher(mosquitto.port, site)
    cloud = start_cloud(tmp_path, mosquitto, site)
    with TcpRelay(mosquitto.port) as relay:
        edge = start_edge(tmp_path, relay.port, site, scale)
        try:
            vanish_twice(tmp_path, site, relay, watcher, edge, scale)
        finally:
            stop(cloud)
            watcher.close()
    assert "Traceback" not in (tmp_path / "cloud.log").read_text()


def vanish_twice(
    tmp_path: Path,
    site: str,
    relay: TcpRelay,
    watcher: Watcher,
    edge: subprocess.Popen[bytes],
    scale: MtSicsEmulator,
) -> None:
    try:
        wait_for(lambda: watcher.state() == "online", 20, "the agent online")

        # 1. SIGKILL: the last will at once, the alert after the grace, only one.
        edge.send_signal(signal.SIGKILL)
        edge.wait(10)
        wait_for(lambda: watcher.state() == "offline", 10, "the last will")
        wait_for(lambda: len(watcher.offline_alerts()) == 1, 20, "a device_offline alert")
        first = watcher.offline_alerts()[0]
        assert (first.device, first.site) == ("gw", site)
        assert (first.at - first.offline_since).total_seconds() >= GRACE_S
        wait_for(lambda: active_offline(tmp_path, site), 5, "the alert active")

        # Back: the alert is cleared, and nothing new is raised.
        edge = start_edge(tmp_path, relay.port, site, scale)
        wait_for(lambda: watcher.state() == "online", 20, "the agent online again")
        wait_for(lambda: not active_offline(tmp_path, site), 10, "the alert cleared")
        assert len(watcher.offline_alerts()) == 1

        # 2. The network cut: the will after 1.5 x keepalive, a second episode.
        relay.cut()
        wait_for(lambda: watcher.state() == "offline", 3 * KEEPALIVE_S, "the will on a cut")
        wait_for(lambda: len(watcher.offline_alerts()) == 2, 20, "a second alert")
        relay.heal()
        wait_for(lambda: watcher.state() == "online", 30, "reconnected after the cut")
        wait_for(lambda: not active_offline(tmp_path, site), 10, "cleared again")
        assert len(watcher.offline_alerts()) == 2
    finally:
        stop(edge)
