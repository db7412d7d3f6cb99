"""Nothing lost at scale: an edge agent holding thousands of unsent readings in
its disk outbox is killed with SIGKILL, restarted, and every reading it sent
lands in InfluxDB exactly once, with its value.

Real processes throughout: ten emulated MT-SICS scales on pseudo-terminals,
`vmi edge run` polling them fast with a heartbeat on every poll (hundreds of
readings a second), a private Mosquitto that is stopped while the backlog
builds up, `vmi cloud run` and a real InfluxDB. A test-side subscriber with a
persistent session records every readings message the broker passes on.
"""

from __future__ import annotations

import functools
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.timeseries import InfluxStore, open_store
from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.mtsics_scale import MtSicsEmulator
from tests.processes import start_vmi, stop
from tests.servers import InfluxServer, MosquittoServer
from tests.waiting import wait_for as _wait_for
from vmi.wire import Reading, ReadingsBatch, encode, readings_topic

# These waits poll servers: every 0.2 s is enough.
wait_for = functools.partial(_wait_for, poll_s=0.2)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SCALES = 10
TARE_G, ITEM_G = 100.0, 10.0
BACKLOG_READINGS = 5000  # at least this many unsent when the agent is killed

# (location, sku, time in ms) -> quantity: how a level is identified in InfluxDB.
Levels = dict[tuple[str, str, int], float]


def time_ms(when: datetime) -> int:
    return (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def levels_of(batches: list[ReadingsBatch]) -> Levels:
    return {
        (r.location, r.sku, time_ms(r.time)): float(r.quantity) for b in batches for r in b.readings
    }


class Recorder:
    """Every readings message of one device, through broker restarts (persistent session)."""

    def __init__(self, port: int, topic: str, client_id: str) -> None:
        self.batches: list[ReadingsBatch] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        self._client.on_connect = lambda c, *_: c.subscribe(topic, 1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(1, 1)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        assert self._subscribed.wait(10)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        batch = ReadingsBatch.model_validate_json(msg.payload)
        with self._lock:
            self.batches.append(batch)

    def snapshot(self) -> list[ReadingsBatch]:
        with self._lock:
            return list(self.batches)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def outbox_batches(path: Path) -> list[ReadingsBatch]:
    """The readings messages waiting in the agent's disk outbox (read-only)."""
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT topic, payload FROM outbox ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the agent is still creating it
        return []
    finally:
        db.close()
    return [ReadingsBatch.model_validate_json(p) for t, p in rows if t.endswith("/readings")]


def wait_ingesting(broker: MosquittoServer, store: InfluxStore, site: str, since: datetime) -> None:
    """Until the collector has subscribed, messages have no session to wait in."""
    probe = ReadingsBatch(
        site=site,
        device="p",
        seq=1,
        sent_at=datetime.now(UTC),
        readings=[Reading(time=datetime.now(UTC), location="P", sku="P", quantity=1)],
    )
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()

    def probe_stored() -> bool:
        client.publish(readings_topic(site, "p"), encode(probe), qos=1)
        return bool(store.level_series(site, "P", since))

    try:
        wait_for(probe_stored, 30, lambda: "the collector to store a probe")
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.fixture
def scales() -> Iterator[list[MtSicsEmulator]]:
    emulators = [
        MtSicsEmulator(cell=replace(DEFAULT_CELL, settle_s=0.02), seed=i) for i in range(SCALES)
    ]
    for i, emu in enumerate(emulators):
        emu.set_load(TARE_G + (10 + i) * ITEM_G)
        emu.start()
    yield emulators
    for emu in emulators:
        emu.stop()


def edge_config(
    tmp: Path, site: str, broker: MosquittoServer, scales: list[MtSicsEmulator]
) -> Path:
    tables = "".join(
        f"""
[[scales]]
type = "mtsics"
port = "{emu.port}"
location = "L{i:02d}"
sku = "SKU{i:02d}"
item_weight_g = {ITEM_G}
tare_g = {TARE_G}
poll_interval_s = 0.01
settle_samples = 2
"""
        for i, emu in enumerate(scales)
    )
    config = tmp / "edge.toml"
    config.write_text(
        f"""
site = "{site}"
device = "gw"
state_dir = "{tmp / "state"}"
[mqtt]
url = "{broker.url}"
[publish]
heartbeat_s = 0.001
linger_s = 0.05
max_batch = 50
status_interval_s = 3600
[outbox]
max_in_flight = 100
{tables}"""
    )
    return config


def test_edge_killed_with_thousands_unsent_then_restarted(
    tmp_path: Path, unique_id: str, influxdb: InfluxServer, scales: list[MtSicsEmulator]
) -> None:

    started = time.monotonic()
    site = unique_id
    broker = MosquittoServer(tmp_path / "mosquitto", extra_config="max_queued_messages 0\n")
    broker.start()
    db_url = influxdb.database_url(f"{unique_id}_backlog")
    store = open_store(db_url)
    assert isinstance(store, InfluxStore)
    cloud = tmp_path / "cloud.toml"
    cloud.write_text(
        f'[mqtt]\nurl = "{broker.url}"\nclient_id = "c-{unique_id}"\n'
        f'[store]\nurl = "{db_url}"\n'
        f'[orders]\nurl = "sqlite:///{tmp_path / "orders.db"}"\n'
    )
    config = edge_config(tmp_path, site, broker, scales)
    outbox = tmp_path / "state" / "gw.outbox.db"
    edge_log = tmp_path / "edge.log"
    since = datetime.now(UTC) - timedelta(minutes=1)
    processes: list[subprocess.Popen[bytes]] = []
    recorder = Recorder(broker.port, readings_topic(site, "gw"), f"rec-{unique_id}")

    def stored() -> Levels:
        found: Levels = {}
        for i in range(SCALES):
            for p in store.level_series(site, f"SKU{i:02d}", since):
                found[(p.location, p.sku, time_ms(p.time))] = p.quantity
        return found

    def missing() -> str:
        gone = levels_of(recorder.snapshot()).keys() - stored().keys()
        seqs = sorted({b.seq for b in recorder.snapshot() if levels_of([b]).keys() & gone})
        return f"{len(gone)} recorded readings not in InfluxDB, of messages {seqs[:20]}"

    try:
        collector = start_vmi("cloud", "run", "--config", str(cloud), log=tmp_path / "cloud.log")
        processes.append(collector)
        wait_ingesting(broker, store, f"{site}-p", since)
        edge = start_vmi("edge", "run", "--config", str(config), log=edge_log)
        processes.append(edge)
        wait_for(lambda: len(stored()) >= 100, 30, lambda: "the first levels in InfluxDB")

        # The broker goes away; the agent keeps polling, its outbox fills up.
        broker.stop()
        wait_for(
            lambda: sum(len(b.readings) for b in outbox_batches(outbox)) >= BACKLOG_READINGS,
            90,
            lambda: f"{BACKLOG_READINGS} readings in the outbox; {edge_log.read_text()[-2000:]}",
        )
        edge.send_signal(signal.SIGKILL)
        assert edge.wait(10) == -signal.SIGKILL
        backlog = outbox_batches(outbox)
        held = levels_of(backlog)
        assert len(held) >= BACKLOG_READINGS, "thousands of distinct readings were unsent"

        # Restarted with the broker still down, then the broker comes back.
        edge = start_vmi("edge", "run", "--config", str(config), log=edge_log)
        processes.append(edge)
        time.sleep(2.0)
        broker.start()
        wait_for(
            lambda: not outbox_batches(outbox) and held.keys() <= stored().keys(),
            90,
            lambda: f"the backlog in InfluxDB; {len(held.keys() - stored().keys())} missing",
        )
        edge_rc = stop(edge)  # it flushes what it still has

        # Everything the agent sent, recorded at the broker, is in InfluxDB.
        wait_for(
            lambda: levels_of(recorder.snapshot()).keys() <= stored().keys(),
            60,
            lambda: f"every recorded reading in InfluxDB: {missing()}",
        )
        collector_rc = stop(collector)
    finally:
        for proc in processes:
            stop(proc)
        recorder.close()
        broker.stop()
    sent = recorder.snapshot()
    expected = levels_of(sent)
    got = stored()
    store.close()
    assert edge_rc == 0, edge_log.read_text()[-3000:]
    assert collector_rc == 0
    assert held.items() <= expected.items(), "the outbox's backlog went out as it was"
    assert got == expected, "every reading sent is stored exactly once, with its value"
    # A resent message repeats its sequence number with the same readings;
    # a number never stands for two different messages (it survives the kill).
    by_seq: dict[int, set[tuple[Reading, ...]]] = {}
    for b in sent:
        by_seq.setdefault(b.seq, set()).add(tuple(b.readings))
    assert all(len(contents) == 1 for contents in by_seq.values())
    assert {b.seq for b in backlog} <= by_seq.keys()
    logs = edge_log.read_text() + (tmp_path / "cloud.log").read_text()
    assert "Traceback" not in logs
    print(
        f"backlog at SIGKILL: {len(backlog)} messages, {len(held)} readings; "
        f"sent in all: {len(sent)} messages ({len(by_seq)} distinct), {len(expected)} readings; "
        f"{time.monotonic() - started:.0f} s"
    )
