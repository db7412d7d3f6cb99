"""Nothing lost at the edge: levels taken while the broker is down survive a
SIGKILL of the agent and arrive once the broker is back.

Real processes: a private Mosquitto (stopped and restarted), `vmi edge run`
(killed with SIGKILL and started again), an emulated scale on a pty.
"""

from __future__ import annotations

import functools
import signal
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.mtsics_scale import MtSicsEmulator
from tests.processes import start_vmi
from tests.servers import MosquittoServer
from tests.waiting import wait_for as _wait_for
from vmi.wire import ReadingsBatch, readings_topic

# These waits poll servers: every 0.1 s is enough.
wait_for = functools.partial(_wait_for, poll_s=0.1)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TARE, ITEM = 100.0, 10.0


class Recorder:
    """A persistent-session subscriber: the broker keeps its subscription and
    queues for it across a broker restart."""

    def __init__(self, port: int, topic: str, client_id: str) -> None:
        self.batches: list[ReadingsBatch] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        self._client.on_connect = lambda c, *_: c.subscribe(topic, 1)
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(0.2, 1)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.batches.append(ReadingsBatch.model_validate_json(msg.payload))

    def quantities(self) -> set[float]:
        with self._lock:
            return {r.quantity for b in self.batches for r in b.readings}

    def seqs(self) -> list[int]:
        with self._lock:
            return [b.seq for b in self.batches]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def test_levels_survive_broker_outage_and_agent_sigkill(tmp_path: Path, unique_id: str) -> None:
    broker = MosquittoServer(tmp_path / "mosquitto")
    broker.start()
    scale = MtSicsEmulator(cell=replace(DEFAULT_CELL, settle_s=0.05), seed=5)
    scale.set_load(TARE + 60 * ITEM)
    scale.start()
    config = tmp_path / "edge.toml"
    config.write_text(
        f"""
site = "{unique_id}"
device = "gw"
state_dir = "{tmp_path / "state"}"
[mqtt]
url = "{broker.url}"
[publish]
heartbeat_s = 600
linger_s = 0.05
[[scales]]
type = "mtsics"
port = "{scale.port}"
location = "A"
sku = "X"
item_weight_g = {ITEM}
tare_g = {TARE}
poll_interval_s = 0.05
"""
    )
    log = tmp_path / "edge.log"
    rec = Recorder(broker.port, readings_topic(unique_id, "gw"), f"rec-{unique_id}")
    edge = start_vmi("edge", "run", "--config", str(config), log=log)
    try:
        wait_for(lambda: 60.0 in rec.quantities(), 20, "the first level")

        broker.stop()
        while_down_before_kill = list(range(58, 38, -2))  # 10 levels
        for units in while_down_before_kill:
            scale.set_load(TARE + units * ITEM)
            time.sleep(0.8)  # settle and publish even on a busy machine
        edge.send_signal(signal.SIGKILL)
        edge.wait(10)

        polled = scale.lines_received
        edge = start_vmi(
            "edge", "run", "--config", str(config), log=log
        )  # restarts with the broker still down
        # Change the load only once the new process polls the scale: a slow
        # start on a busy machine would otherwise miss the first level.
        wait_for(lambda: scale.lines_received >= polled + 10, 30, "the restarted agent's polls")
        while_down_after_kill = [36, 34]
        for units in while_down_after_kill:
            scale.set_load(TARE + units * ITEM)
            time.sleep(0.8)

        broker.start()
        expected = {60.0, *map(float, while_down_before_kill + while_down_after_kill)}
        wait_for(
            lambda: expected <= rec.quantities(),
            60,
            lambda: f"every level after the outage; missing {expected - rec.quantities()}",
        )
    finally:
        edge.send_signal(signal.SIGTERM)
        try:
            edge.wait(20)
        except subprocess.TimeoutExpired:
            edge.kill()  # our own child; the assertion below reports the hang
            edge.wait(5)
        rec.close()
        scale.stop()
        broker.stop()
    assert edge.returncode == 0, log.read_text()
    seqs = rec.seqs()
    assert len(set(seqs)) == len(seqs), f"a sequence number was reused: {seqs}"
    assert sorted(seqs) == seqs, "the outbox sent in order"
