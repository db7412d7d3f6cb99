"""Emulated Tasmota nodes on a real MQTT broker: an HX711 scale and an RDM6300 reader.

Each node is one paho client that behaves like an ESP running Tasmota with the
default FullTopic `%prefix%/%topic%/`: a retained last will `Offline` on
`tele/<topic>/LWT`, a retained `Online` on every connect, telemetry on
`tele/<topic>/SENSOR`, commands on `cmnd/<topic>/<Command>` answered on
`stat/<topic>/RESULT`. Topics and JSON are written here independently of the
driver's parser, so each checks the other.

Faults: garbage telemetry with a probability, `go_offline()` (the TCP
connection dies without DISCONNECT, so the broker publishes the will; or an
announced `Offline`), `come_back()`.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
import uuid
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_sim.errors import SimulatorError
from firmware_sim.load_cell import DEFAULT_CELL, LoadCell, LoadedCell
from vmi.urls import parse_mqtt_url

_TICK_S: Final = 0.02  # thread period: bounds publish latency and how long stop() waits
_CONNECT_TIMEOUT_S: Final = 5.0
_HX_SCALE: Final = 120  # Tasmota's default counts per gram before calibration
_EMPTY_COUNTS: Final = 8_300  # AbsRaw of the empty platform (any plausible offset)


class _TasmotaNode:
    """What every emulated node shares: its MQTT session, LWT, commands, garbage."""

    kind = "node"

    def __init__(
        self, mqtt_url: str, topic: str, *, garbage_probability: float = 0.0, seed: int = 0
    ) -> None:
        if not 0.0 <= garbage_probability <= 1.0:
            raise ValueError(
                f"garbage_probability must be within [0, 1], got {garbage_probability}"
            )
        self.address = parse_mqtt_url(mqtt_url)
        self.topic = topic
        self.garbage_probability = garbage_probability
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._commands: list[str] = []
        self.sent = 0  # SENSOR payloads published, garbage included
        self.garbage_sent = 0

    def topic_for(self, prefix: str, suffix: str) -> str:
        """`topic_for("tele", "SENSOR")` -> `tele/<topic>/SENSOR`."""
        return f"{prefix}/{self.topic}/{suffix}"

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Connect (waits up to 5 s, else `SimulatorError`) and start publishing."""
        if self._thread is not None:
            raise RuntimeError(f"{self.kind} {self.topic} already started")
        self._connect()
        self._thread = threading.Thread(target=self._run, name=f"tasmota-{self.topic}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing, announce `Offline` and disconnect; idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self.go_offline(announce=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def connected(self) -> bool:
        """True while the node's MQTT session is up."""
        return self._connected.is_set()

    def go_offline(self, *, announce: bool = False) -> None:
        """Drop off the network.

        By default the TCP connection dies without an MQTT DISCONNECT, like a
        node losing power: the broker publishes the will (`Offline`). With
        `announce`, the node publishes `Offline` itself and disconnects cleanly.
        """
        with self._lock:
            client, self._client = self._client, None
        if client is None:
            return
        self._connected.clear()
        if announce:
            with contextlib.suppress(Exception):
                info = client.publish(self.topic_for("tele", "LWT"), "Offline", qos=1, retain=True)
                info.wait_for_publish(2.0)
            client.disconnect()
            client.loop_stop()
            return
        client.loop_stop()  # first, so paho cannot reconnect or send DISCONNECT
        sock = client.socket()
        if sock is not None:
            sock.close()

    def come_back(self) -> None:
        """Reconnect after `go_offline()`: publishes `Online` again."""
        if self._client is None:
            self._connect()

    @property
    def commands(self) -> list[str]:
        """Every command received, as `"<Command> <payload>"`, in order."""
        with self._lock:
            return list(self._commands)

    # -- what subclasses provide -----------------------------------------------

    def _tick(self, now: float) -> None:
        """Publish whatever is due at monotonic time `now`."""
        raise NotImplementedError

    def _command(self, command: str, args: str) -> object:
        """Handle `cmnd/<topic>/<command>`; return the RESULT object to publish."""
        return {"Command": "Unknown"}

    # -- shared machinery ------------------------------------------------------

    def _connect(self) -> None:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{self.topic}-{uuid.uuid4().hex[:8]}"
        )
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set()
        client.will_set(self.topic_for("tele", "LWT"), "Offline", qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=2)  # come back fast in tests
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        try:
            client.connect(self.address.host, self.address.port, keepalive=10)
        except OSError as exc:
            raise SimulatorError(
                f"{self.topic}: cannot reach broker {self.address}: {exc}"
            ) from exc
        with self._lock:
            self._client = client
        client.loop_start()
        if not self._connected.wait(_CONNECT_TIMEOUT_S):
            self.go_offline()
            raise SimulatorError(f"{self.topic}: broker {self.address} did not accept in time")

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            return
        client.publish(self.topic_for("tele", "LWT"), "Online", qos=1, retain=True)
        client.subscribe(self.topic_for("cmnd", "#"), qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, _rc: Any, _p: Any) -> None:
        # Up only once commands can arrive: a test may send one right after start().
        self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        self._connected.clear()

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        command = msg.topic.rsplit("/", 1)[-1]
        args = bytes(msg.payload).decode("utf-8", "replace").strip()
        with self._lock:
            self._commands.append(f"{command} {args}".strip())
            result = self._command(command, args)
        reply = json.dumps(result, separators=(",", ":"))
        client.publish(self.topic_for("stat", "RESULT"), reply, qos=1)

    def _run(self) -> None:
        while not self._stop.wait(_TICK_S):
            with self._lock:
                self._tick(time.monotonic())

    def _publish_sensor(self, body: str) -> None:
        """Publish `{"Time":...,<body>}` on SENSOR, or garbage with its probability."""
        client = self._client
        if client is None or not self._connected.is_set():
            return  # offline nodes publish nothing; Tasmota does not queue telemetry
        stamp = datetime.now().strftime("%Y-%m-%dT%H:%M:%S")  # Tasmota: local time, no zone
        payload = f'{{"Time":"{stamp}",{body}}}'.encode()
        if self._rng.random() < self.garbage_probability:
            payload = self._garble(payload)
            self.garbage_sent += 1
        client.publish(self.topic_for("tele", "SENSOR"), payload)
        self.sent += 1

    def _garble(self, payload: bytes) -> bytes:
        kind = self._rng.randrange(4)
        if kind == 0:  # line noise
            return bytes(self._rng.randrange(256) for _ in range(self._rng.randint(1, 40)))
        if kind == 1:  # truncated in transit
            return payload[: self._rng.randint(1, len(payload) - 1)]
        if kind == 2:  # a value the node could not format: nan weight, mangled UID
            return payload.replace(b'"Weight":', b'"Weight":nan,"Was":', 1).replace(
                b'"UID":"', b'"UID":"#', 1
            )
        return b'{"Time":"2026-01-05T10:00:00","HX711":"ERR","RDM6300":["?"]}'  # wrong types


class TasmotaHx711Node(_TasmotaNode):
    """A Tasmota node with an HX711 load-cell amplifier.

    `set_load()` sets the gross load in grams. The node publishes the net weight
    (gross minus its tare, whole grams clamped at 0 like Tasmota) in kg with `weight_res`
    decimals every `tele_period_s` and, with `publish_on_change`, right after a
    change (Tasmota's `Sensor34 8 1`). `Sensor34 1` tares at the current load.
    The load cell is a `LoadCell` (`firmware_sim.load_cell`), of which a node
    uses `noise_g` and creep: with `drift_g_per_s` the weight grows that many
    grams a second from the last load change (or `start()`), without counting
    as a change. Tasmota reports no stability or range, so the cell's
    capacity, underload and settling play no part.
    """

    kind = "HX711 node"

    def __init__(
        self,
        mqtt_url: str,
        topic: str,
        *,
        tele_period_s: float = 0.2,
        cell: LoadCell = DEFAULT_CELL,
        weight_res: int = 3,
        item_weight_g: float = 0.0,
        publish_on_change: bool = True,
        garbage_probability: float = 0.0,
        seed: int = 0,
    ) -> None:
        """`cell`: its `noise_g` is the standard deviation of each published
        weight; it may be replaced while running. `item_weight_g`: adds
        `Count` when more than one item is on (0 = not set, as in Tasmota)."""
        super().__init__(mqtt_url, topic, garbage_probability=garbage_probability, seed=seed)
        if tele_period_s <= 0 or item_weight_g < 0:
            raise ValueError("tele_period_s must be positive; item weight not negative")
        if weight_res not in (0, 1, 2, 3):
            raise ValueError(f"weight_res is 0..3 like Tasmota's WeightRes, got {weight_res}")
        self.tele_period_s = tele_period_s
        self.weight_res = weight_res
        self.item_weight_g = item_weight_g
        self.publish_on_change = publish_on_change
        self._loaded = LoadedCell(cell)
        self._offset_g = 0.0  # gross load that reads as zero (Tasmota's tare offset)
        self._last_tele = -float("inf")
        self._changed = False

    @property
    def cell(self) -> LoadCell:
        """How the load cell weighs; replace it to change that while running."""
        return self._loaded.cell

    @cell.setter
    def cell(self, cell: LoadCell) -> None:
        self._loaded.cell = cell  # one reference: swapped whole, no lock needed

    def start(self) -> None:
        """Connect and start publishing; creep counts from now."""
        with self._lock:
            self._loaded.power_up()
        super().start()

    def set_load(self, grams: float) -> None:
        """Set the gross load on the platform, in grams; a change restarts creep."""
        with self._lock:
            if self._loaded.set_load(grams):
                self._changed = True

    @property
    def load_g(self) -> float:
        """The gross load last set."""
        with self._lock:
            return self._loaded.gross_g

    @property
    def tare_g(self) -> float:
        """The load-cell reading taken as zero by the last `Sensor34 1` (0 when none)."""
        with self._lock:
            return self._offset_g

    def _tick(self, now: float) -> None:
        changed = self._changed and self.publish_on_change
        # Due from the last publish, so a new tele_period_s applies at once.
        if now < self._last_tele + self.tele_period_s and not changed:
            return
        self._changed = False
        self._last_tele = now
        self._publish_sensor(self._hx711_json())

    def _hx711_json(self) -> str:
        noise = self.cell.noise(self._rng, stable=True)
        cell_g = self._loaded.reading_g()
        # Tasmota computes whole grams (integer division) and clamps negatives to 0.
        grams = max(0, int(cell_g - self._offset_g + noise))
        count = ""
        if self.item_weight_g and grams:
            items = int(grams // self.item_weight_g)
            if items > 1:
                count = f',"Count":{items}'
        weight = f"{grams / 1000.0:.{self.weight_res}f}"
        raw = int(cell_g)
        abs_raw = int(cell_g * _HX_SCALE) + _EMPTY_COUNTS
        return f'"HX711":{{"Weight":{weight}{count},"WeightRaw":{raw},"AbsRaw":{abs_raw}}}'

    def _command(self, command: str, args: str) -> object:
        if command.lower() != "sensor34":
            return super()._command(command, args)
        parts = args.replace(",", " ").split()
        if parts[:1] == ["1"]:
            self._offset_g = self._loaded.reading_g()
            self._changed = True  # the weight drops to 0: a settled change
            return {"Sensor34": "Reset"}
        if parts[:1] == ["6"] and len(parts) > 1:
            with contextlib.suppress(ValueError):
                self.item_weight_g = max(0.0, float(parts[1]))
        return {"Sensor34": self._settings()}

    def _settings(self) -> dict[str, object]:
        # Tasmota answers other Sensor34 commands with its settings (abridged).
        return {
            "Ref": 250,
            "Cal": _HX_SCALE,
            "Max": 20000,
            "Item": round(self.item_weight_g, 1),
            "Change": "ON" if self.publish_on_change else "OFF",
        }


class TasmotaRdm6300Node(_TasmotaNode):
    """A Tasmota node with an RDM6300 125 kHz reader.

    Every tag in the field is published as `{"RDM6300":{"UID":"XXXXXXXX"}}` at
    once and then every `repeat_s` while it stays (real Tasmota blocks 2 s
    after a read; a real 125 kHz reader sees one tag at a time, the emulator
    takes turns).
    """

    kind = "RDM6300 node"

    def __init__(
        self,
        mqtt_url: str,
        topic: str,
        *,
        repeat_s: float = 0.5,
        garbage_probability: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__(mqtt_url, topic, garbage_probability=garbage_probability, seed=seed)
        if repeat_s <= 0:
            raise ValueError(f"repeat_s must be positive, got {repeat_s}")
        self.repeat_s = repeat_s
        self._due: dict[str, float] = {}  # uid -> monotonic time of its next publish

    def add_tag(self, uid: str | int) -> str:
        """Put a tag in the field (32-bit id, as int or hex); returns its UID text."""
        value = int(uid, 16) if isinstance(uid, str) else uid
        if not 0 < value <= 0xFFFFFFFF:
            raise ValueError(f"tag id must be a non-zero 32-bit number, got {uid!r}")
        text = f"{value:08X}"
        with self._lock:
            self._due.setdefault(text, 0.0)
        return text

    def remove_tag(self, uid: str | int) -> None:
        """Take a tag out of the field (no error if it is not there)."""
        text = f"{int(uid, 16) if isinstance(uid, str) else uid:08X}"
        with self._lock:
            self._due.pop(text, None)

    @property
    def tags(self) -> list[str]:
        """UIDs in the field."""
        with self._lock:
            return sorted(self._due)

    def _tick(self, now: float) -> None:
        for uid, due in list(self._due.items()):
            if now >= due:
                self._due[uid] = now + self.repeat_s
                self._publish_sensor(f'"RDM6300":{{"UID":"{uid}"}}')
