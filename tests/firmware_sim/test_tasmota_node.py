"""The emulated Tasmota nodes, watched by a plain MQTT client on the real broker."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from firmware_sim.errors import SimulatorError
from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.tasmota_node import TasmotaHx711Node, TasmotaRdm6300Node
from tests.firmware_sim.creep import Reading, assert_creeps
from tests.servers import MosquittoServer, free_port

pytestmark = pytest.mark.timeout(60)

WAIT_S = 5.0


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool


class Watcher:
    """Subscribes to everything under one device topic and keeps what arrives."""

    def __init__(self, server: MosquittoServer, topic: str) -> None:
        self.messages: list[Message] = []
        self._cond = threading.Condition()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{topic}")
        self._client.on_message = self._on_message
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.connect(server.host, server.port)
        self._client.loop_start()
        self._client.subscribe([(f"+/{topic}/#", 1)])
        assert subscribed.wait(WAIT_S)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(Message(msg.topic, bytes(msg.payload), bool(msg.retain)))
            self._cond.notify_all()

    def wait_for(self, match: Callable[[Message], bool], count: int = 1) -> list[Message]:
        """The first `count` messages that match, waiting up to WAIT_S for them."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._matching(match)) >= count, WAIT_S)
            found = self._matching(match)
        assert len(found) >= count, f"wanted {count}, got {len(found)}: {self.messages[-5:]}"
        return found[:count]

    def _matching(self, match: Callable[[Message], bool]) -> list[Message]:
        return [m for m in self.messages if match(m)]

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()

    def send(self, topic: str, payload: str) -> None:
        self._client.publish(topic, payload, qos=1).wait_for_publish(WAIT_S)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def watcher(mosquitto: MosquittoServer, unique_id: str) -> Iterator[Watcher]:
    w = Watcher(mosquitto, unique_id)
    yield w
    w.close()


def on(topic: str) -> Callable[[Message], bool]:
    return lambda m: m.topic == topic


def weights(messages: list[Message]) -> list[float]:
    return [json.loads(m.payload)["HX711"]["Weight"] for m in messages]


def test_hx711_node_publishes_sensor_json(
    mosquitto: MosquittoServer, unique_id: str, watcher: Watcher
) -> None:
    with TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=0.05) as node:
        node.set_load(1234.7)
        (lwt,) = watcher.wait_for(on(f"tele/{unique_id}/LWT"))
        assert lwt.payload == b"Online"
        sensor = watcher.wait_for(
            lambda m: m.topic == f"tele/{unique_id}/SENSOR" and b"1.234" in m.payload
        )[0]
    body = json.loads(sensor.payload)
    assert set(body) == {"Time", "HX711"}
    assert body["HX711"]["Weight"] == 1.234  # whole grams, in kg
    assert set(body["HX711"]) == {"Weight", "WeightRaw", "AbsRaw"}
    assert b'"Weight":1.234,' in sensor.payload  # three decimals, as WeightRes 3 prints
    assert not sensor.retain


def test_hx711_drift_creeps_without_counting_as_a_change(
    mosquitto: MosquittoServer, unique_id: str, watcher: Watcher
) -> None:
    sensor = on(f"tele/{unique_id}/SENSOR")
    with TasmotaHx711Node(
        mosquitto.url,
        unique_id,
        tele_period_s=0.05,
        cell=replace(DEFAULT_CELL, drift_g_per_s=100.0),
    ) as node:

        def read() -> Reading:
            watcher.clear()
            # The second one after the clear was published after it (50 ms apart).
            last = watcher.wait_for(sensor, count=2)[-1]
            return True, round(weights([last])[0] * 1000.0)

        # Tasmota truncates to whole grams: up to 1 g under the load cell.
        assert_creeps(node, read, rate_g_per_s=100.0, resolution_g=2.0, load_g=1000.0)
        node.tele_period_s = 10.0
        time.sleep(0.1)
        watcher.clear()
        time.sleep(0.3)
        assert not watcher.messages  # creep alone never publishes "on change"


def test_hx711_node_tele_period_and_change(
    mosquitto: MosquittoServer, unique_id: str, watcher: Watcher
) -> None:
    sensor = on(f"tele/{unique_id}/SENSOR")
    with TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=10.0) as node:
        watcher.wait_for(sensor)  # the first period starts at once
        watcher.clear()
        node.set_load(500.0)
        (changed,) = watcher.wait_for(sensor)  # long before the next period
        assert weights([changed]) == [0.5]
        node.tele_period_s = 0.05
        assert weights(watcher.wait_for(sensor, count=4)) == [0.5] * 4


def test_hx711_node_weight_resolution_count_and_noise(
    mosquitto: MosquittoServer, unique_id: str, watcher: Watcher
) -> None:
    with TasmotaHx711Node(
        mosquitto.url,
        unique_id,
        tele_period_s=0.03,
        weight_res=1,
        item_weight_g=25.0,
        cell=replace(DEFAULT_CELL, noise_g=3.0),
    ) as node:
        node.set_load(1000.0)
        found = watcher.wait_for(lambda m: b'"Count"' in m.payload, count=10)
    for message in found:
        hx = json.loads(message.payload)["HX711"]
        assert hx["Weight"] in (0.9, 1.0)
        assert b'"Weight":' + f"{hx['Weight']:.1f}".encode() in message.payload
        assert 38 <= hx["Count"] <= 40


def test_sensor34_tare_resets_to_current_load(
    mosquitto: MosquittoServer, unique_id: str, watcher: Watcher
) -> None:
    sensor = on(f"tele/{unique_id}/SENSOR")
    with TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=0.05) as node:
        node.set_load(300.0)
        watcher.wait_for(lambda m: m.topic.endswith("SENSOR") and b"0.300" in m.payload)
        watcher.send(f"cmnd/{unique_id}/Sensor34", "1")
        (result,) = watcher.wait_for(on(f"stat/{unique_id}/RESULT"))
        assert json.loads(result.payload) == {"Sensor34": "Reset"}
        assert node.tare_g == 300.0
        assert node.commands == ["Sensor34 1"]
        watcher.clear()
        node.set_load(350.0)
        assert weights(watcher.wait_for(sensor, count=3))[-1] == 0.05
        node.set_load(100.0)  # below the tare: Tasmota shows 0, never negative
        watcher.wait_for(lambda m: m.topic.endswith("SENSOR") and b'"Weight":0.000' in m.payload)


def test_unknown_command_and_settings_reply(
    mosquitto: MosquittoServer, unique_id: str, watcher: Watcher
) -> None:
    with TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=1.0) as node:
        watcher.send(f"cmnd/{unique_id}/Power", "ON")
        watcher.send(f"cmnd/{unique_id}/Sensor34", "6 12.5")
        first, second = watcher.wait_for(on(f"stat/{unique_id}/RESULT"), count=2)
        assert json.loads(first.payload) == {"Command": "Unknown"}
        assert json.loads(second.payload)["Sensor34"]["Item"] == 12.5
        assert node.item_weight_g == 12.5


def test_go_offline_lets_the_broker_publish_the_will(
    mosquitto: MosquittoServer, unique_id: str, watcher: Watcher
) -> None:
    lwt = on(f"tele/{unique_id}/LWT")
    with TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=0.05) as node:
        watcher.wait_for(lwt)
        node.go_offline()
        assert not node.connected
        assert [m.payload for m in watcher.wait_for(lwt, count=2)] == [b"Online", b"Offline"]
        watcher.clear()
        time.sleep(0.2)
        assert not [m for m in watcher.messages if m.topic.endswith("SENSOR")]
        node.come_back()
        assert [m.payload for m in watcher.wait_for(lwt)] == [b"Online"]
        watcher.wait_for(on(f"tele/{unique_id}/SENSOR"))
    # stop() announces Offline itself, and the broker keeps it retained.
    assert watcher.wait_for(lwt, count=2)[-1].payload == b"Offline"


def test_garbage_payloads(mosquitto: MosquittoServer, unique_id: str, watcher: Watcher) -> None:
    with TasmotaHx711Node(
        mosquitto.url, unique_id, tele_period_s=0.02, garbage_probability=1.0, seed=3
    ) as node:
        found = watcher.wait_for(on(f"tele/{unique_id}/SENSOR"), count=20)
        assert node.garbage_sent == node.sent
    for message in found:  # none of them carries a usable weight
        with pytest.raises((ValueError, KeyError, TypeError)):
            json.loads(message.payload)["HX711"]["Weight"]


def test_rdm6300_node_repeats_tags_in_the_field(
    mosquitto: MosquittoServer, unique_id: str, watcher: Watcher
) -> None:
    sensor = on(f"tele/{unique_id}/SENSOR")
    with TasmotaRdm6300Node(mosquitto.url, unique_id, repeat_s=0.1) as node:
        assert node.add_tag("008ec793") == "008EC793"
        assert node.add_tag(0xA1B2C3) == "00A1B2C3"
        found = watcher.wait_for(sensor, count=6)
        uids = {json.loads(m.payload)["RDM6300"]["UID"] for m in found}
        assert uids == {"008EC793", "00A1B2C3"}
        node.remove_tag("008EC793")
        assert node.tags == ["00A1B2C3"]
        time.sleep(0.15)
        watcher.clear()
        later = watcher.wait_for(sensor, count=3)
        assert {json.loads(m.payload)["RDM6300"]["UID"] for m in later} == {"00A1B2C3"}


def test_bad_arguments() -> None:
    url = "mqtt://127.0.0.1:1883"
    with pytest.raises(ValueError, match="garbage_probability"):
        TasmotaHx711Node(url, "x", garbage_probability=1.5)
    with pytest.raises(ValueError, match="WeightRes"):
        TasmotaHx711Node(url, "x", weight_res=4)
    with pytest.raises(ValueError, match="tele_period_s"):
        TasmotaHx711Node(url, "x", tele_period_s=0)
    with pytest.raises(ValueError, match="repeat_s"):
        TasmotaRdm6300Node(url, "x", repeat_s=0)
    node = TasmotaRdm6300Node(url, "x")
    with pytest.raises(ValueError, match="non-zero 32-bit"):
        node.add_tag(0)
    with pytest.raises(ValueError, match="non-zero 32-bit"):
        node.add_tag("1FFFFFFFF")


def test_start_fails_fast_without_a_broker() -> None:
    node = TasmotaHx711Node(f"mqtt://127.0.0.1:{free_port()}", "nobody")
    started = time.monotonic()
    with pytest.raises(SimulatorError, match="cannot reach"):
        node.start()
    assert time.monotonic() - started < WAIT_S
    node.stop()  # harmless after a failed start
