"""End to end with real processes: emulated MT-SICS scale on a pty -> `vmi edge run`
-> real Mosquitto -> `vmi cloud run` -> real InfluxDB, orders and alerts.

The scale steps down a shelf in real time. The replenishment rule is scaled to
seconds (lead time 1.5e-4 days = 13 s of cover) so the shelf crosses its reorder
point part-way through and keeps falling after it.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.orders import OrderBook
from cloud.timeseries import TimeSeriesStore, open_store
from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.mtsics_scale import MtSicsEmulator
from tests.processes import start_vmi, stop
from tests.servers import MosquittoServer
from tests.waiting import wait_for as _wait_for
from vmi.wire import (
    DeviceStatus,
    Reading,
    ReadingsBatch,
    ReorderAlert,
    alerts_topic,
    decode_alert,
    encode,
    readings_topic,
    status_topic,
)

# These waits poll servers: every 0.1 s is enough.
wait_for = functools.partial(_wait_for, poll_s=0.1)

pytestmark = pytest.mark.e2e

TARE_G = 100.0
ITEM_G = 10.0
LEVELS = list(range(60, 18, -2))  # 60, 58, ..., 20 units
HOLD_S = 0.8  # each level stays on the scale this long


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class Listener:
    """Collects messages on some topics of the test broker."""

    def __init__(self, url_port: int, topics: list[str]) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self._client.on_connect = lambda c, *_: [c.subscribe(t, 1) for t in topics]
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", url_port)
        self._client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(msg)

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [m.payload for m in self.messages if m.topic == topic]

    def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def wait_until_ingesting(
    listener: Listener, store: TimeSeriesStore, probe_site: str, since: datetime
) -> None:
    probe = ReadingsBatch(
        site=probe_site,
        device="probe",
        seq=1,
        sent_at=datetime.now(UTC),
        readings=[Reading(time=datetime.now(UTC), location="P", sku="P", quantity=1)],
    )

    def stored() -> bool:
        listener.publish(readings_topic(probe_site, "probe"), encode(probe))
        time.sleep(0.3)
        return bool(store.level_series(probe_site, "P", since))

    wait_for(stored, 30, "the collector to store a probe message")


@pytest.fixture
def scale() -> Iterator[MtSicsEmulator]:
    emu = MtSicsEmulator(cell=replace(DEFAULT_CELL, settle_s=0.1), seed=1)
    emu.set_load(TARE_G + LEVELS[0] * ITEM_G)
    emu.start()
    yield emu
    emu.stop()


def test_scale_to_influx_to_one_order_and_one_alert(
    tmp_path: Path,
    mosquitto: MosquittoServer,
    influx_db_url: str,
    unique_id: str,
    scale: MtSicsEmulator,
) -> None:

    site, device, sku = f"{unique_id}-site", "gw-01", "BOLT-M8"
    edge_cfg = write(
        tmp_path / "edge.toml",
        f"""
site = "{site}"
device = "{device}"
state_dir = "{tmp_path / "edge-state"}"
[mqtt]
url = "{mosquitto.url}"
[publish]
heartbeat_s = 60
linger_s = 0.05
[[scales]]
type = "mtsics"
port = "{scale.port}"
location = "A-01"
sku = "{sku}"
item_weight_g = {ITEM_G}
tare_g = {TARE_G}
poll_interval_s = 0.1
""",
    )
    orders_db = tmp_path / "orders.db"
    cloud_cfg = write(
        tmp_path / "cloud.toml",
        f"""
[mqtt]
url = "{mosquitto.url}"
client_id = "collector-{unique_id}"
[store]
url = "{influx_db_url}"
[orders]
url = "sqlite:///{orders_db}"
[replenishment]
window_days = 2
[replenishment.default]
lead_time_days = 0.00015
order_cycle_days = 0.001
min_history_days = 0.00003
""",
    )
    listener = Listener(mosquitto.port, [alerts_topic(site), status_topic(site, device)])
    store = open_store(influx_db_url)
    since = datetime.now(UTC) - timedelta(minutes=5)
    collector = start_vmi("cloud", "run", "--config", str(cloud_cfg), log=tmp_path / "cloud.log")
    # Only a subscribed collector receives: wait until a probe message is stored.
    wait_until_ingesting(listener, store, f"{unique_id}-probe", since)
    edge = start_vmi("edge", "run", "--config", str(edge_cfg), log=tmp_path / "edge.log")
    try:
        # The edge announces itself with a retained birth message.
        wait_for(lambda: listener.on(status_topic(site, device)), 20, "edge birth message")
        birth = DeviceStatus.model_validate_json(listener.on(status_topic(site, device))[0])
        assert birth.state == "online"
        assert birth.agent_version

        # The first level reaches InfluxDB through the collector.
        wait_for(lambda: store.level_series(site, sku, since), 30, "first level in InfluxDB")

        for units in LEVELS[1:]:
            scale.set_load(TARE_G + units * ITEM_G)
            time.sleep(HOLD_S)

        wait_for(
            lambda: any(p.quantity == LEVELS[-1] for p in store.level_series(site, sku, since)),
            20,
            "last level in InfluxDB",
        )
        time.sleep(2.0)  # let any (wrong) second order or alert show itself
    finally:
        edge_rc = stop(edge, timeout_s=20)
        collector_rc = stop(collector, timeout_s=20)

    logs = {n: (tmp_path / f"{n}.log").read_text() for n in ("edge", "cloud")}
    assert edge_rc == 0, logs["edge"]
    assert collector_rc == 0, logs["cloud"]
    assert "Traceback" not in logs["edge"] + logs["cloud"]

    # Levels in InfluxDB are exactly what the scale reported as stable.
    stored = store.level_series(site, sku, since)
    reported_units = {round((g - TARE_G) / ITEM_G) for g in scale.reported_stable}
    assert {p.quantity for p in stored} == set(LEVELS)
    assert {p.quantity for p in stored} <= reported_units
    assert all(p.raw_weight_g in scale.reported_stable for p in stored)
    assert [p.quantity for p in stored] == sorted((p.quantity for p in stored), reverse=True)
    seqs = [p.seq for p in stored]
    assert seqs == sorted(seqs), "sequence numbers rise with time"
    assert all(p.site == site and p.device == device and p.location == "A-01" for p in stored)

    # Exactly one order and one alert for the crossing, though the shelf kept falling.
    orders = OrderBook(f"sqlite:///{orders_db}").orders(site)
    assert len(orders) == 1, orders
    order = orders[0]
    assert order.sku == sku
    assert order.status == "proposed"
    assert 20 <= order.on_hand_at_trigger < LEVELS[0]
    alerts = [decode_alert(p) for p in listener.on(alerts_topic(site))]
    reorders = [a for a in alerts if isinstance(a, ReorderAlert)]  # stock alerts may come too
    assert len(reorders) == 1
    assert reorders[0].order_id == order.id
    assert reorders[0].order_quantity == order.quantity
    assert reorders[0].kind == "reorder"

    # A clean shutdown leaves `offline` as the retained status.
    wait_for(
        lambda: json.loads(listener.on(status_topic(site, device))[-1])["state"] == "offline",
        10,
        "offline status",
    )
    listener.close()
    store.close()
