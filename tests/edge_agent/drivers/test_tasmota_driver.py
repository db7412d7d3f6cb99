"""Tasmota HX711 and RDM6300 drivers against emulated nodes on the real Mosquitto."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.drivers.base import TagDriver, TagRead, WeightDriver, WeightSample
from edge_agent.drivers.tasmota import (
    TasmotaHx711,
    TasmotaHx711Config,
    TasmotaRdm6300,
    TasmotaRdm6300Config,
)
from edge_agent.drivers.tasmota.protocol import MAX_PAYLOAD_BYTES
from edge_agent.errors import CommandRejected, DeviceUnavailable, FrameError
from firmware_sim.tasmota_node import TasmotaHx711Node, TasmotaRdm6300Node
from tests.servers import MosquittoServer, free_port

pytestmark = pytest.mark.timeout(60)

WAIT_S = 5.0


class Publisher:
    """Publishes hand-written payloads, standing in for a node."""

    def __init__(self, server: MosquittoServer, topic: str) -> None:
        self.topic = topic
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{topic}")
        self._client.connect(server.host, server.port)
        self._client.loop_start()

    def send(self, suffix: str, payload: str | bytes, *, retain: bool = False) -> None:
        """Publish on `tele/<topic>/<suffix>` and wait for the broker to take it."""
        info = self._client.publish(f"tele/{self.topic}/{suffix}", payload, qos=1, retain=retain)
        info.wait_for_publish(WAIT_S)

    def weight(self, kg: str) -> None:
        self.send("SENSOR", f'{{"Time":"2026-01-05T10:00:00","HX711":{{"Weight":{kg}}}}}')

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def publisher(mosquitto: MosquittoServer, unique_id: str) -> Iterator[Publisher]:
    pub = Publisher(mosquitto, unique_id)
    yield pub
    pub.close()


@pytest.fixture
def opened() -> Iterator[Callable[[Any], Any]]:
    """Open drivers and nodes (anything with open/close or start/stop); all closed after."""
    things: list[Any] = []

    def open_(thing: Any) -> Any:
        things.append(thing)
        if hasattr(thing, "start"):
            thing.start()
        else:
            thing.open()
        return thing

    yield open_
    for thing in reversed(things):
        if hasattr(thing, "stop"):
            thing.stop()
        else:
            thing.close()


def scale_config(server: MosquittoServer, topic: str, **options: Any) -> TasmotaHx711Config:
    settings: dict[str, Any] = {"timeout_s": 1.0, "stale_after_s": 5.0, **options}
    return TasmotaHx711Config(type="tasmota_hx711", mqtt_url=server.url, topic=topic, **settings)


def read_until(
    scale: TasmotaHx711, want: Callable[[WeightSample], bool], within_s: float = WAIT_S
) -> WeightSample:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        sample = scale.read_weight()
        if sample is not None and want(sample):
            return sample
    raise AssertionError(f"no matching weight within {within_s} s")


def calls_until_unavailable(call: Callable[[], Any]) -> tuple[list[Any], DeviceUnavailable]:
    """Call until it raises DeviceUnavailable: what it returned before, and the error."""
    results = []
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            results.append(call())
        except DeviceUnavailable as exc:
            return results, exc
        time.sleep(0.02)
    raise AssertionError(f"still available after {WAIT_S} s")


# -- HX711 --------------------------------------------------------------------


def test_node_weights_arrive_in_grams(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    node = opened(TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=0.05))
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id)))
    driver: WeightDriver = scale  # checked by mypy when run over tests
    node.set_load(1234.0)
    assert read_until(scale, lambda s: s.stable) == WeightSample(grams=1234.0, stable=True)
    assert driver.name == unique_id


def test_weight_resolution_is_what_the_node_sends(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    # WeightRes 1 reports tenths of a kilogram: set WeightRes 3 on real nodes.
    node = opened(TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=0.05, weight_res=1))
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id)))
    node.set_load(1234.0)
    assert read_until(scale, lambda s: s.stable).grams == 1200.0


def test_stability_is_derived_from_agreeing_weights(
    mosquitto: MosquittoServer, unique_id: str, publisher: Publisher, opened: Callable[[Any], Any]
) -> None:
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id, stable_tolerance_g=2.0)))
    expected = [
        ("1.000", 1000.0, False),  # one weight: too few to agree
        ("1.001", 1001.0, False),
        ("1.0005", 1000.5, True),  # three within 2 g
        ("1.010", 1010.0, False),  # an item went on
        ("1.010", 1010.0, False),
        ("1.011", 1011.0, True),
    ]
    for kg, grams, stable in expected:
        publisher.weight(kg)
        assert scale.read_weight() == WeightSample(grams=grams, stable=stable), kg
    assert scale.stats.ok == len(expected)


def test_only_the_newest_weight_is_returned_and_none_when_nothing_new(
    mosquitto: MosquittoServer, unique_id: str, publisher: Publisher, opened: Callable[[Any], Any]
) -> None:
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id, timeout_s=0.3)))
    for kg in ("0.100", "0.200", "0.300"):
        publisher.weight(kg)
    # All three reached the driver's queue once the last one is read.
    assert read_until(scale, lambda s: s.grams == 300.0).grams == 300.0
    assert scale.stats.ok == 3
    started = time.monotonic()
    assert scale.read_weight() is None
    assert 0.25 <= time.monotonic() - started < WAIT_S


def test_tare_reaches_the_node_and_makes_weights_net(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    node = opened(TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=0.05))
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id)))
    node.set_load(250.0)
    read_until(scale, lambda s: s.stable and s.grams == 250.0)
    assert scale.tare() == 0.0
    assert node.commands == ["Sensor34 1"]
    assert node.tare_g == 250.0
    node.set_load(300.0)
    assert read_until(scale, lambda s: s.stable) == WeightSample(grams=50.0, stable=True)
    scale.zero()
    assert node.commands == ["Sensor34 1", "Sensor34 1"]
    assert read_until(scale, lambda s: s.stable).grams == 0.0


def test_tare_without_a_reply_is_rejected(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id, timeout_s=0.3)))
    with pytest.raises(CommandRejected, match="no reply") as info:
        scale.tare()
    assert info.value.code == "no_reply"


def test_lwt_offline_makes_the_node_unavailable(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    node = opened(TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=0.05))
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id)))
    node.set_load(80.0)
    read_until(scale, lambda s: s.grams == 80.0)
    node.go_offline()  # the broker publishes the node's will
    with pytest.raises(DeviceUnavailable, match="Offline"):
        read_until(scale, lambda s: False)
    scale.close()
    with pytest.raises(DeviceUnavailable, match="Offline"):
        scale.open()  # the retained will says so at once
    node.come_back()
    scale.open()
    assert read_until(scale, lambda s: s.stable).grams == 80.0


def test_silent_node_goes_stale(
    mosquitto: MosquittoServer, unique_id: str, publisher: Publisher, opened: Callable[[Any], Any]
) -> None:
    scale = opened(
        TasmotaHx711(scale_config(mosquitto, unique_id, timeout_s=0.2, stale_after_s=0.8))
    )
    publisher.weight("0.042")
    assert read_until(scale, lambda s: True).grams == 42.0
    publisher.send("SENSOR", '{"Time":"2026-01-05T10:00:00","ANALOG":{"A0":3}}')
    started = time.monotonic()
    results, error = calls_until_unavailable(scale.read_weight)
    assert "no HX711 weight" in str(error)
    assert results
    assert all(r is None for r in results)  # alive but quiet: None, not an error
    assert 0.7 <= time.monotonic() - started < 2.0
    assert scale.stats.other == 1  # other sensors are no sign of a working load cell
    assert scale.stats.stale == 1


def test_garbage_is_counted_and_skipped(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    node = opened(
        TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=0.05, garbage_probability=1.0)
    )
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id)))
    node.set_load(75.0)
    with pytest.raises(FrameError, match="bad SENSOR message"):
        read_until(scale, lambda s: True)
    assert scale.stats.bad >= 1
    node.garbage_probability = 0.0
    deadline = time.monotonic() + WAIT_S
    while True:  # garbage still queued raises once more per message, then weights come
        assert time.monotonic() < deadline
        try:
            sample = scale.read_weight()
        except FrameError:
            continue
        if sample is not None and sample.stable:
            break
    assert sample.grams == 75.0


def test_mixed_garbage_never_yields_a_wrong_weight(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    node = opened(
        TasmotaHx711Node(
            mosquitto.url, unique_id, tele_period_s=0.02, garbage_probability=0.4, seed=7
        )
    )
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id)))
    node.set_load(123.0)
    good = bad = 0
    while good < 20:
        try:
            sample = scale.read_weight()
        except FrameError:
            bad += 1
            continue
        assert sample is not None
        assert sample.grams == 123.0
        good += 1
    assert bad > 0
    assert scale.stats.bad == bad


def test_retained_sensor_messages_are_ignored(
    mosquitto: MosquittoServer, unique_id: str, publisher: Publisher, opened: Callable[[Any], Any]
) -> None:
    publisher.send("SENSOR", '{"HX711":{"Weight":9.999}}', retain=True)  # SensorRetain 1
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id, timeout_s=0.3)))
    assert scale.read_weight() is None
    assert scale.link.stats.retained_skipped == 1
    publisher.send("SENSOR", b"", retain=True)  # clear it


def test_oversized_payloads_are_dropped_on_receipt(
    mosquitto: MosquittoServer, unique_id: str, publisher: Publisher, opened: Callable[[Any], Any]
) -> None:
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id, timeout_s=0.5)))
    huge = '{"HX711":{"Weight":1.0,"Pad":"' + "x" * MAX_PAYLOAD_BYTES + '"}}'
    for _ in range(3):
        publisher.send("SENSOR", huge)
    publisher.send("SENSOR", '{"HX711":{"Weight":0.125}}')
    sample = read_until(scale, lambda s: s is not None)
    assert sample.grams == 125.0, "the good one after them is read"
    assert scale.link.stats.oversized == 3
    assert scale.stats.bad == 0, "never parsed: dropped before they were queued"


def test_broker_restart_is_survived(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    node = opened(TasmotaHx711Node(mosquitto.url, unique_id, tele_period_s=0.05))
    scale = opened(TasmotaHx711(scale_config(mosquitto, unique_id)))
    node.set_load(10.0)
    read_until(scale, lambda s: s.stable)
    mosquitto.restart()
    node.set_load(20.0)
    # No reopen: paho reconnects and the link subscribes again. Until the node
    # is back too, its will (published when the broker went down) says Offline.
    deadline = time.monotonic() + 20.0
    unavailable = 0
    while True:
        assert time.monotonic() < deadline, "no weight after the broker restart"
        try:
            sample = scale.read_weight()
        except DeviceUnavailable:
            unavailable += 1
            time.sleep(0.1)
            continue
        if sample is not None and sample.grams == 20.0:
            break
    assert scale.is_open
    assert scale.link.stats.connects == 2
    assert scale.link.stats.disconnects == 1


def test_open_fails_fast_without_a_broker(unique_id: str) -> None:
    config = TasmotaHx711Config(
        type="tasmota_hx711", mqtt_url=f"mqtt://127.0.0.1:{free_port()}", topic=unique_id
    )
    scale = TasmotaHx711(config)
    with pytest.raises(DeviceUnavailable, match="cannot reach broker"):
        scale.open()
    assert not scale.is_open
    with pytest.raises(DeviceUnavailable, match="not open"):
        scale.read_weight()
    scale.close()
    scale.close()


# -- RDM6300 --------------------------------------------------------------------


def reader_config(server: MosquittoServer, topic: str, **options: Any) -> TasmotaRdm6300Config:
    return TasmotaRdm6300Config(
        type="tasmota_rdm6300", mqtt_url=server.url, topic=topic, timeout_s=1.0, **options
    )


def poll_tags(reader: TasmotaRdm6300, until: Callable[[list[TagRead]], bool]) -> list[TagRead]:
    """Tags reported by repeated read_tags() calls until `until(all so far)` holds."""
    seen: list[TagRead] = []
    deadline = time.monotonic() + WAIT_S
    while not until(seen):
        assert time.monotonic() < deadline, f"gave up with {seen}"
        reads = reader.read_tags()
        assert len(reads) == len(set(reads)), "a call reports each tag once"
        seen += reads
        time.sleep(0.02)
    return seen


def test_tags_are_reported_once_per_debounce_window(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    node = opened(TasmotaRdm6300Node(mosquitto.url, unique_id, repeat_s=0.05))
    reader = opened(TasmotaRdm6300(reader_config(mosquitto, unique_id, debounce_s=0.5)))
    driver: TagDriver = reader  # checked by mypy when run over tests
    assert driver.name == unique_id
    node.add_tag("008ec793")
    first = poll_tags(reader, lambda seen: len(seen) >= 1)
    started = time.monotonic()
    assert first == [TagRead(tag_id="008EC793")]
    again = poll_tags(reader, lambda seen: len(seen) >= 1)
    assert again == [TagRead(tag_id="008EC793")]  # still there: reported again
    assert time.monotonic() - started >= 0.4
    assert reader.stats.debounced >= 3


def test_repeats_debounce_garbage_and_other_sensors(
    mosquitto: MosquittoServer, unique_id: str, publisher: Publisher, opened: Callable[[Any], Any]
) -> None:
    reader = opened(TasmotaRdm6300(reader_config(mosquitto, unique_id, debounce_s=30.0)))
    assert reader.read_tags() == []
    tag_a = '{"Time":"2026-01-05T10:00:01","RDM6300":{"UID":"008ec793"}}'
    tag_b = '{"Time":"2026-01-05T10:00:02","RDM6300":{"UID":"00A1B2C3"}}'
    for payload in (tag_a, tag_a, b"\xff\x02garbage", '{"ANALOG":{"A0":1}}', tag_b):
        publisher.send("SENSOR", payload)
    seen = poll_tags(reader, lambda seen: TagRead("00A1B2C3") in seen)
    assert seen == [TagRead("008EC793"), TagRead("00A1B2C3")]
    publisher.send("SENSOR", tag_a)  # within debounce_s: not reported
    publisher.send("SENSOR", tag_b)
    publisher.send("SENSOR", '{"RDM6300":{"UID":"11223344"}}')
    assert poll_tags(reader, lambda seen: bool(seen)) == [TagRead("11223344")]
    assert reader.stats.ok == 6
    assert reader.stats.bad == 1
    assert reader.stats.other == 1
    assert reader.stats.debounced == 3


def test_reader_offline_is_unavailable(
    mosquitto: MosquittoServer, unique_id: str, opened: Callable[[Any], Any]
) -> None:
    node = opened(TasmotaRdm6300Node(mosquitto.url, unique_id))
    reader = opened(TasmotaRdm6300(reader_config(mosquitto, unique_id)))
    node.go_offline()
    _, error = calls_until_unavailable(reader.read_tags)
    assert "Offline" in str(error)
    node.come_back()
    reader.close()
    reader.open()
    node.add_tag(0x8EC793)
    assert poll_tags(reader, lambda seen: bool(seen)) == [TagRead("008EC793")]
