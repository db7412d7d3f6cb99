"""The edge agent against real Mosquitto and emulated scales on real ptys."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.agent import EdgeAgent
from edge_agent.config import EdgeConfig, config_hash
from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.mtsics_scale import MtSicsEmulator
from firmware_sim.rdm6300_reader import Rdm6300Emulator
from tests.servers import MosquittoServer
from tests.waiting import wait_for
from vmi.wire import (
    DeviceStatus,
    Event,
    EventKind,
    EventsBatch,
    ReadingsBatch,
    cmd_topic,
    events_topic,
    readings_topic,
    status_topic,
)

pytestmark = pytest.mark.timeout(60)


class Recorder:
    def __init__(self, port: int, site: str, device: str) -> None:
        self.batches: list[ReadingsBatch] = []
        self.events: list[Event] = []
        self.statuses: list[DeviceStatus] = []
        self._ready = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self._client.on_connect = lambda c, *_: c.subscribe(
            [
                (readings_topic(site, device), 1),
                (events_topic(site, device), 1),
                (status_topic(site, device), 1),
            ]
        )
        self._client.on_subscribe = lambda *_: self._ready.set()
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        assert self._ready.wait(10)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith("/readings"):
            self.batches.append(ReadingsBatch.model_validate_json(msg.payload))
        elif msg.topic.endswith("/events"):
            self.events += EventsBatch.model_validate_json(msg.payload).events
        else:
            self.statuses.append(DeviceStatus.model_validate_json(msg.payload))

    def quantities(self, sku: str) -> list[float]:
        return [r.quantity for b in list(self.batches) for r in b.readings if r.sku == sku]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def scale() -> Iterator[MtSicsEmulator]:
    with MtSicsEmulator(cell=replace(DEFAULT_CELL, settle_s=0.05), seed=2) as emu:
        emu.set_load(100.0 + 7 * 10.0)
        yield emu


def config(
    tmp_path: Path,
    mosquitto: MosquittoServer,
    site: str,
    scales: list[dict[str, object]],
    heartbeat_s: float = 60.0,
) -> EdgeConfig:
    return EdgeConfig.model_validate(
        {
            "site": site,
            "device": "gw",
            "state_dir": str(tmp_path / "state"),
            "mqtt": {"url": mosquitto.url},
            "publish": {"heartbeat_s": heartbeat_s, "linger_s": 0.05},
            "scales": scales,
        }
    )


def scale_entry(port: str, sku: str) -> dict[str, object]:
    return {
        "type": "mtsics",
        "port": port,
        "location": f"L-{sku}",
        "sku": sku,
        "item_weight_g": 10.0,
        "tare_g": 100.0,
        "poll_interval_s": 0.05,
    }


def run_agent(agent: EdgeAgent) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_a_missing_scale_does_not_stop_the_others_and_shows_in_status(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str, scale: MtSicsEmulator
) -> None:
    missing = str(tmp_path / "no-such-tty")
    cfg = config(
        tmp_path,
        mosquitto,
        unique_id,
        [scale_entry(scale.port, "GOOD"), scale_entry(missing, "GONE")],
    )
    rec = Recorder(mosquitto.port, unique_id, "gw")
    agent = EdgeAgent(cfg)
    stop, thread = run_agent(agent)
    try:
        wait_for(lambda: 7.0 in rec.quantities("GOOD"), 10, "the good scale's level")
        scale.set_load(100.0 + 5 * 10.0)
        wait_for(lambda: rec.quantities("GOOD")[-1:] == [5.0], 10, "the new level")
        wait_for(
            lambda: any(s.drivers.get(missing) == "unavailable" for s in rec.statuses),
            10,
            "the missing scale reported unavailable in the status",
        )
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
    assert rec.quantities("GONE") == []
    online = [s for s in rec.statuses if s.state == "online"]
    assert online
    assert online[-1].drivers[scale.port] == "ok"
    assert online[-1].config_hash == config_hash(cfg)
    wait_for(lambda: rec.statuses[-1].state == "offline", 10, "offline on clean shutdown")
    assert agent.stats.devices[missing].health == "unavailable"
    rec.close()


def test_sequence_survives_restart_and_heartbeat_republishes(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str, scale: MtSicsEmulator
) -> None:
    cfg = config(tmp_path, mosquitto, unique_id, [scale_entry(scale.port, "X")], heartbeat_s=0.3)
    rec = Recorder(mosquitto.port, unique_id, "gw")
    for _ in range(2):
        stop, thread = run_agent(EdgeAgent(cfg))
        before = len(rec.batches)
        # The level never changes, so only heartbeats carry it.
        wait_for(lambda b=before: len(rec.batches) >= b + 3, 10, "three heartbeat messages")
        stop.set()
        thread.join(20)
    seqs = [b.seq for b in rec.batches]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs), "a restart never reuses a sequence number"
    assert set(rec.quantities("X")) == {7.0}
    rec.close()


def test_picks_and_overloads_are_published_as_events(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str, scale: MtSicsEmulator
) -> None:
    cfg = config(tmp_path, mosquitto, unique_id, [scale_entry(scale.port, "X")])
    rec = Recorder(mosquitto.port, unique_id, "gw")
    stop, thread = run_agent(EdgeAgent(cfg))
    try:
        wait_for(lambda: rec.quantities("X")[-1:] == [7.0], 10, "the first level")
        scale.set_load(100.0 + 4 * 10.0)
        wait_for(lambda: any(e.kind == EventKind.PICK for e in rec.events), 10, "a pick event")
        scale.set_load(7000.0)  # beyond the emulated capacity
        wait_for(lambda: any(e.kind == EventKind.FAULT for e in rec.events), 10, "a fault event")
        scale.set_load(100.0 + 4 * 10.0)
        wait_for(
            lambda: len([e for e in rec.events if e.kind == EventKind.FAULT]) == 2,
            10,
            "the fault cleared",
        )
    finally:
        stop.set()
        thread.join(20)
    pick = next(e for e in rec.events if e.kind == EventKind.PICK)
    assert (pick.quantity, pick.sku, pick.location) == (3.0, "X", "L-X")
    faults = [e.detail for e in rec.events if e.kind == EventKind.FAULT]
    assert faults == ["overload", "cleared: overload"]
    assert rec.quantities("X")[-1] == 4.0, "the overload never became stock"
    assert 70.0 not in rec.quantities("X")
    rec.close()


def send_command(port: int, site: str, payload: bytes, *, retain: bool = False) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(cmd_topic(site, "gw"), payload, qos=1, retain=retain).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


FIVE_MINUTES = timedelta(minutes=5)


def command(
    what: str,
    *,
    id: str | None = None,
    age: timedelta = timedelta(0),
    **more: object,
) -> bytes:
    """A command as the cloud sends it, issued `age` ago and valid for five minutes."""
    issued = datetime.now(UTC) - age
    fields = {
        "v": 1,
        "id": id or f"c-{uuid.uuid4().hex[:12]}",
        "issued_at": issued.isoformat(),
        "expires_at": (issued + FIVE_MINUTES).isoformat(),
        "command": what,
    }
    return json.dumps(fields | more).encode()


def test_retained_repeated_and_expired_commands_are_not_applied(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str, scale: MtSicsEmulator
) -> None:
    cfg = config(tmp_path, mosquitto, unique_id, [scale_entry(scale.port, "X")])
    rec = Recorder(mosquitto.port, unique_id, "gw")
    # A retained tare waits at the broker before the agent ever connects.
    send_command(mosquitto.port, unique_id, command("tare", location="L-X"), retain=True)
    agent = EdgeAgent(cfg)
    stop, thread = run_agent(agent)
    tares = lambda: [e for e in rec.events if e.kind == EventKind.TARE]  # noqa: E731
    try:
        wait_for(lambda: agent.stats.commands_ignored["retained"] == 1, 10, "the retained one")
        wait_for(lambda: bool(rec.quantities("X")), 10, "the first level")
        once = command("tare", id="tare-once", location="L-X")
        for _ in range(3):  # as QoS 1 may deliver it again after a reconnect
            send_command(mosquitto.port, unique_id, once)
        wait_for(lambda: agent.stats.commands_ignored["repeated"] == 2, 10, "two repeats")
        send_command(
            mosquitto.port,
            unique_id,
            command("tare", location="L-X", age=timedelta(minutes=6)),
        )
        wait_for(lambda: agent.stats.commands_ignored["expired"] == 1, 10, "the expired one")
        wait_for(lambda: len(tares()) == 1, 10, "one tare event")
    finally:
        stop.set()
        thread.join(20)
    assert agent.stats.commands == 1, "applied once: the fresh one, once"
    faults = [e.detail for e in rec.events if e.kind == EventKind.FAULT]
    assert any(d.endswith("ignored: expired") for d in faults), faults
    # After a restart the applied id is still known: a redelivery is not applied.
    again = EdgeAgent(cfg)
    stop, thread = run_agent(again)
    try:
        # The retained tare reaching it says it is subscribed: a command sent
        # before that would find no subscription and be lost, not repeated.
        wait_for(lambda: again.stats.commands_ignored["retained"] == 1, 10, "subscribed again")
        send_command(mosquitto.port, unique_id, once)
        wait_for(lambda: again.stats.commands_ignored["repeated"] == 1, 10, "known after restart")
    finally:
        stop.set()
        thread.join(20)
    assert again.stats.commands == 0
    send_command(mosquitto.port, unique_id, b"", retain=True)  # clear the retained one
    rec.close()


def test_tare_and_calibrate_commands_apply_persist_and_bad_ones_are_refused(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str, scale: MtSicsEmulator
) -> None:
    cfg = config(tmp_path, mosquitto, unique_id, [scale_entry(scale.port, "X")])
    rec = Recorder(mosquitto.port, unique_id, "gw")
    agent = EdgeAgent(cfg)
    stop, thread = run_agent(agent)
    kinds = lambda k: [e for e in rec.events if e.kind == k]  # noqa: E731
    try:
        wait_for(lambda: rec.quantities("X")[-1:] == [7.0], 10, "the first level")
        # The empty bin weighs 120 g now, not the configured 100 g: tare it.
        scale.set_load(120.0)
        wait_for(lambda: rec.quantities("X")[-1:] == [2.0], 10, "the empty bin counted as 2")
        send_command(mosquitto.port, unique_id, command("tare", location="L-X"))
        wait_for(lambda: bool(kinds(EventKind.TARE)), 10, "a tare event")
        wait_for(lambda: rec.quantities("X")[-1:] == [0.0], 10, "zero after the tare")
        # Five units on a load cell that reads 20% light count as four...
        scale.set_load(120.0 + 5 * 10.0 * 0.8)
        wait_for(lambda: rec.quantities("X")[-1:] == [4.0], 10, "four by weight")
        send_command(mosquitto.port, unique_id, command("calibrate", location="L-X", units=5))
        wait_for(lambda: rec.quantities("X")[-1:] == [5.0], 10, "five after calibrating")
        for bad in (
            b"not json",
            command("tare", location="NOWHERE"),
            command("calibrate", location="L-X"),
        ):
            send_command(mosquitto.port, unique_id, bad)
        wait_for(lambda: agent.stats.commands_rejected == 3, 10, "three refusals")
    finally:
        stop.set()
        thread.join(20)
    tare = kinds(EventKind.TARE)[0]
    assert tare.quantity == 120.0
    assert "was 100.0 g" in tare.detail
    calibration = kinds(EventKind.CALIBRATION)[0]
    assert calibration.quantity == pytest.approx(1.25)
    refusals = [e.detail for e in kinds(EventKind.FAULT)]
    assert len(refusals) == 3
    assert all(d.startswith("command rejected: ") for d in refusals)
    assert any("no scale at location NOWHERE" in d for d in refusals)

    # Tare and span survive a restart: the same load still counts five.
    stop, thread = run_agent(EdgeAgent(cfg))
    before = len(rec.batches)
    try:
        wait_for(lambda: len(rec.batches) > before, 10, "a level after the restart")
    finally:
        stop.set()
        thread.join(20)
    assert rec.quantities("X")[-1] == 5.0
    rec.close()


def test_rfid_counts_per_sku_and_a_lasting_weight_mismatch_is_an_event(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str, scale: MtSicsEmulator
) -> None:
    tags = ["0F007F5DBA", "13005D1DA5", "1400AB12CD"]
    with Rdm6300Emulator(interval_s=0.05, garbage_probability=0.1, seed=4) as reader:
        for t in tags:
            reader.add_tag(t)
        reader.add_tag("FF00000001")  # on the shelf, but in nobody's tag map
        scale.set_load(100.0 + 3 * 10.0)
        cfg = EdgeConfig.model_validate(
            {
                "site": unique_id,
                "device": "gw",
                "state_dir": str(tmp_path / "state"),
                "mqtt": {"url": mosquitto.url},
                "publish": {"heartbeat_s": 60, "linger_s": 0.05},
                "mismatch_grace_s": 0.5,
                "scales": [scale_entry(scale.port, "X") | {"location": "A"}],
                "readers": [
                    {
                        "type": "em4100",
                        "port": reader.port,
                        "location": "A",
                        "tag_map": dict.fromkeys(tags, "X"),
                        "presence_window_s": 1.0,
                        "min_sightings": 2,
                        "poll_interval_s": 0.1,
                        "debounce_s": 0.1,
                    }
                ],
            }
        )
        rec = Recorder(mosquitto.port, unique_id, "gw")
        agent = EdgeAgent(cfg)
        stop, thread = run_agent(agent)
        try:
            rfid = lambda: [  # noqa: E731
                r.quantity for b in list(rec.batches) for r in b.readings if r.source == "rfid"
            ]
            wait_for(lambda: rfid()[-1:] == [3.0], 10, "three tagged units")
            assert not [e for e in rec.events if e.kind == EventKind.MISMATCH]
            reader.remove_tag(tags[2])  # a tag left, but the scale still weighs three
            wait_for(lambda: rfid()[-1:] == [2.0], 10, "two tagged units")
            wait_for(
                lambda: any(e.kind == EventKind.MISMATCH for e in rec.events), 10, "a mismatch"
            )
        finally:
            stop.set()
            thread.join(20)
    mismatch = next(e for e in rec.events if e.kind == EventKind.MISMATCH)
    assert (mismatch.location, mismatch.sku, mismatch.quantity) == ("A", "X", 1.0)
    assert mismatch.detail == "scale counts 3, RFID counts 2"
    stats = agent.stats.devices[reader.port]
    assert stats.unknown_tags == 1
    assert stats.bad_frames + stats.samples > 0
    rec.close()
