"""One MQTT connection to one Tasmota node: its telemetry, its last will, its commands.

Both Tasmota drivers sit on a `NodeLink`. paho-mqtt runs the network loop in
its own thread and reconnects by itself (subscriptions are renewed on every
connect); the driver's thread takes telemetry from a bounded queue. The link
knows three facts about the node: whether the broker connection is up, what
the node's retained last will says, and which telemetry arrived.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge_agent.drivers.tasmota.protocol import (
    DEFAULT_FULL_TOPIC,
    MAX_PAYLOAD_BYTES,
    Prefix,
    full_topic,
    parse_command_result,
    parse_lwt,
    validate_device_topic,
    validate_full_topic,
)
from edge_agent.errors import CommandRejected, DeviceUnavailable, FrameError
from vmi.errors import ConfigError
from vmi.urls import MqttAddress, parse_mqtt_url

#: Telemetry kept while nobody reads; older messages are dropped (and counted).
MAX_PENDING: Final = 256
_MAX_RESULTS: Final = 16
_KEEPALIVE_S: Final = 30
_RECONNECT_MAX_S: Final = 30


class TasmotaNodeConfig(BaseModel):
    """Settings every Tasmota node driver shares (the driver's part of a config table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mqtt_url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="the site's broker the node publishes to: mqtt[s]://[user:pass@]host[:port]",
    )
    topic: str = Field(description="the node's Tasmota Topic, e.g. tasmota_ABC123")
    full_topic: str = Field(
        default=DEFAULT_FULL_TOPIC,
        description="the node's FullTopic; only %prefix% and %topic% are supported",
    )
    timeout_s: float = Field(
        default=2.0,
        gt=0,
        allow_inf_nan=False,
        description="wait for the broker on open, for new messages and for command replies",
    )

    @field_validator("mqtt_url")
    @classmethod
    def _is_mqtt_url(cls, value: str) -> str:
        try:
            parse_mqtt_url(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("topic")
    @classmethod
    def _is_device_topic(cls, value: str) -> str:
        return validate_device_topic(value)

    @field_validator("full_topic")
    @classmethod
    def _is_full_topic(cls, value: str) -> str:
        return validate_full_topic(value)

    @property
    def address(self) -> MqttAddress:
        """The broker address (validated at load time)."""
        return parse_mqtt_url(self.mqtt_url)

    def node_topic(self, prefix: Prefix, suffix: str) -> str:
        """`node_topic(Prefix.TELE, "SENSOR")` -> `tele/<topic>/SENSOR` (with the FullTopic)."""
        return full_topic(prefix, self.topic, suffix, pattern=self.full_topic)


@dataclass(frozen=True, slots=True)
class Telemetry:
    """One non-retained `tele/<topic>/SENSOR` payload and when it arrived."""

    payload: bytes
    arrived: float  # time.monotonic()


@dataclass(slots=True)
class LinkStats:
    """Counters of one link since it was created (kept across reopen)."""

    connects: int = 0  # successful CONNACKs, including paho's own reconnects
    disconnects: int = 0  # connections lost while open
    retained_skipped: int = 0  # retained SENSOR messages: of unknown age, never used
    dropped: int = 0  # telemetry dropped because nobody read it (MAX_PENDING)
    bad_lwt: int = 0  # LWT payloads other than Online/Offline
    oversized: int = 0  # payloads over MAX_PAYLOAD_BYTES, dropped on receipt


class NodeLink:
    """The MQTT side of one node. Thread-safe between paho's thread and one reader."""

    def __init__(self, config: TasmotaNodeConfig, *, name: str) -> None:
        self.config = config
        self.name = name
        self.stats = LinkStats()
        self._sensor = config.node_topic(Prefix.TELE, "SENSOR")
        self._lwt = config.node_topic(Prefix.TELE, "LWT")
        self._stat = config.node_topic(Prefix.STAT, "+")
        self._cond = threading.Condition()
        self._client: mqtt.Client | None = None
        self._pending: deque[Telemetry] = deque()
        self._results: deque[bytes] = deque(maxlen=_MAX_RESULTS)
        self._online: bool | None = None  # None until the node's LWT is seen
        self._connected = False
        self._disconnected_at = 0.0
        self._refused: str | None = None
        self._ready_mid: int | None = None
        self._subscribed = False
        self._events = 0  # bumped on every message or state change, for wait()

    # -- lifecycle -----------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True between a successful `open()` and `close()`."""
        return self._client is not None

    @property
    def online(self) -> bool | None:
        """What the node's last will says: True, False, or None when none was seen."""
        return self._online

    def open(self) -> None:
        """Connect, subscribe, and check the node's retained last will.

        Raises `DeviceUnavailable` when the broker cannot be reached, refuses
        the connection or does not confirm the subscriptions within
        `timeout_s`, and when the node's retained LWT says `Offline`.
        """
        if self._client is not None:
            return
        cfg = self.config
        address = cfg.address
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            # Unique per open: two agents (or a reopen racing the old session) must
            # never kick each other off the broker.
            client_id=f"vmi-tasmota-{uuid.uuid4().hex[:12]}",
            clean_session=True,
        )
        if address.username:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            client.tls_set()
        client.connect_timeout = cfg.timeout_s
        client.reconnect_delay_set(min_delay=1, max_delay=_RECONNECT_MAX_S)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        with self._cond:
            self._pending.clear()
            self._results.clear()
            self._online = None
            self._connected = self._subscribed = False
            self._refused = None
        try:
            client.connect(address.host, address.port, keepalive=_KEEPALIVE_S)
        except (OSError, ValueError) as exc:  # refused, unreachable, DNS, TLS
            raise DeviceUnavailable(f"{self.name}: cannot reach broker {address}: {exc}") from exc
        client.loop_start()
        self._client = client
        with self._cond:
            ready = self._cond.wait_for(
                lambda: self._subscribed or self._refused is not None, cfg.timeout_s
            )
            refused, online = self._refused, self._online
        if refused is not None or not ready:
            self.close()
            why = f"refused the connection: {refused}" if refused else "did not answer in time"
            raise DeviceUnavailable(f"{self.name}: broker {address} {why}")
        if online is False:
            self.close()
            raise DeviceUnavailable(f"{self.name}: node is offline (its LWT says Offline)")

    def close(self) -> None:
        """Disconnect; safe to call twice."""
        client, self._client = self._client, None
        if client is None:
            return
        with self._cond:
            self._connected = False  # so the disconnect below is not counted as lost
        with contextlib.suppress(Exception):  # a dead connection is closed enough
            client.disconnect()
        client.loop_stop()
        with self._cond:
            self._pending.clear()
            self._bump()

    # -- what the drivers use ------------------------------------------------

    def check(self) -> None:
        """Raise `DeviceUnavailable` when the node is offline or the broker lost.

        A broker connection lost for less than `timeout_s` is not an error:
        paho reconnects by itself and the node's messages resume.
        """
        self._require_client()
        with self._cond:
            online, connected, since = self._online, self._connected, self._disconnected_at
        if online is False:
            raise DeviceUnavailable(f"{self.name}: node is offline (its LWT says Offline)")
        if not connected and time.monotonic() - since > self.config.timeout_s:
            raise DeviceUnavailable(
                f"{self.name}: lost the broker {self.config.address}; paho keeps reconnecting"
            )

    @property
    def connected(self) -> bool:
        """True while the broker connection is up."""
        return self._connected

    def pop_telemetry(self) -> Telemetry | None:
        """The oldest telemetry not taken yet, or None."""
        with self._cond:
            return self._pending.popleft() if self._pending else None

    def discard_telemetry(self) -> None:
        """Forget telemetry not taken yet (e.g. readings from before a tare)."""
        with self._cond:
            self._pending.clear()

    def events(self) -> int:
        """A counter that changes on every message or state change; see `wait`."""
        with self._cond:
            return self._events

    def wait(self, since: int, timeout_s: float) -> None:
        """Block until `events()` differs from `since`, or `timeout_s` passes."""
        with self._cond:
            self._cond.wait_for(lambda: self._events != since, max(0.0, timeout_s))

    def command(self, command: str, payload: str) -> object:
        """Send `cmnd/<topic>/<command>` and return the value of the node's reply.

        Waits up to `timeout_s` for `stat/<topic>/RESULT` (or `stat/<topic>/<COMMAND>`
        with SetOption4) naming the command. Raises `DeviceUnavailable` when the
        node is offline or the broker is not connected, `CommandRejected` when
        the node says the command is unknown or does not answer in time.
        """
        client = self._require_client()
        self.check()
        if not self._connected:
            raise DeviceUnavailable(f"{self.name}: not connected to the broker")
        text = f"{command} {payload}".strip()
        with self._cond:
            self._results.clear()
        client.publish(self.config.node_topic(Prefix.CMND, command), payload, qos=1)
        deadline = time.monotonic() + self.config.timeout_s
        while True:
            with self._cond:
                raw = self._results.popleft() if self._results else None
                if raw is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        why = f"no reply within {self.config.timeout_s} s"
                        raise CommandRejected(self.name, text, "no_reply", why)
                    self._cond.wait(remaining)
                    continue
            try:
                result = parse_command_result(raw)
            except FrameError:
                continue  # not a reply we can read; keep waiting for ours
            if result.command.lower() == command.lower():
                return result.value
            if result.is_unknown_command:
                raise CommandRejected(self.name, text, "unknown", "the node does not know it")

    # -- paho callbacks (network thread) ---------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            with self._cond:
                self._refused = str(rc)
                self._cond.notify_all()
            return
        # Subscribed on every connect: a clean session forgets them. The second
        # SUBSCRIBE is answered after the broker has sent the retained LWT for
        # the first, so its SUBACK means "the node's last will is known".
        client.subscribe([(self._sensor, 1), (self._lwt, 1)])
        _, mid = client.subscribe(self._stat, 1)
        with self._cond:
            self._connected = True
            self._ready_mid = mid
            self.stats.connects += 1
            self._bump()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        with self._cond:
            if self._connected:
                self.stats.disconnects += 1
            self._connected = False
            self._disconnected_at = time.monotonic()
            self._bump()

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        with self._cond:
            if mid == self._ready_mid:
                self._subscribed = True
                self._bump()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        arrived = time.monotonic()
        if len(msg.payload) > MAX_PAYLOAD_BYTES:
            # No node sends that much: never hold it (the queue keeps up to
            # MAX_PENDING payloads), count it and move on.
            with self._cond:
                self.stats.oversized += 1
            return
        payload = bytes(msg.payload)  # paho may hand out a bytearray
        with self._cond:
            if msg.topic == self._lwt:
                try:
                    self._online = parse_lwt(payload)
                except FrameError:
                    self.stats.bad_lwt += 1
            elif msg.topic == self._sensor:
                if msg.retain:
                    # SensorRetain: a retained SENSOR may be days old.
                    self.stats.retained_skipped += 1
                else:
                    if len(self._pending) >= MAX_PENDING:
                        self._pending.popleft()
                        self.stats.dropped += 1
                    self._pending.append(Telemetry(payload, arrived))
            elif not msg.retain:
                self._results.append(payload)
            self._bump()

    def _bump(self) -> None:
        self._events += 1
        self._cond.notify_all()

    def _require_client(self) -> mqtt.Client:
        if self._client is None:
            raise DeviceUnavailable(f"{self.name}: not open")
        return self._client
