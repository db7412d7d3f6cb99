"""The agent's MQTT connection (paho-mqtt 2): readings and events out of the
outbox, status, and commands in.

Readings and events go through the `Outbox`: a pump thread takes the oldest
messages while connected, at most `max_in_flight` unacknowledged at a time,
and accepts each one (deletes it from the outbox) when the broker's PUBACK
arrives. Across a reconnect paho resends what was in flight itself; across a
crash, whatever the outbox still holds is sent again at the next start.

Status is retained: an `online` birth message on every connect (and every
`status_interval_s`, with the outbox depth), the broker's last will `offline`
if the agent vanishes, and an explicit `offline` on a clean shutdown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.outbox import Outbox
from vmi.clock import Clock
from vmi.mqtt_connection import MqttConnection
from vmi.wire import (
    DeviceState,
    DeviceStatus,
    EventsBatch,
    OutboxState,
    ReadingsBatch,
    cmd_topic,
    encode,
    events_topic,
    readings_topic,
    status_topic,
)

log = logging.getLogger(__name__)

_PUMP_IDLE_S = 0.5


@dataclass
class PublisherStats:
    messages_sent: int = 0
    messages_acked: int = 0
    connects: int = 0


class MqttPublisher:
    """One MQTT connection per edge device."""

    def __init__(
        self,
        *,
        connection: MqttConnection,
        client_id: str,
        site: str,
        device: str,
        clock: Clock,
        outbox: Outbox,
        agent_version: str,
        drivers: dict[str, str],
        config_hash: str | None = None,
        max_in_flight: int = 100,
        on_command: Callable[[bytes, bool], None] | None = None,
    ) -> None:
        self._connection = connection
        self._address = connection.address
        self._site = site
        self._device = device
        self._clock = clock
        self.outbox = outbox
        self._agent_version = agent_version
        self._config_hash = config_hash
        self._drivers = drivers
        self._max_in_flight = max_in_flight
        self._on_command = on_command
        self._connected = threading.Event()
        self._closing = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: dict[int, int] = {}  # MQTT message id -> outbox item id
        self._early_acks: set[int] = set()
        self._pump = threading.Thread(target=self._run_pump, name="outbox-pump", daemon=True)
        self.stats = PublisherStats()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        connection.configure(self._client)
        self._client.will_set(status_topic(site, device), self._will(), qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message

    # ---- status ---------------------------------------------------------------

    def _will(self) -> bytes:
        # The broker sends the will whenever the connection dies, so it
        # carries no time and no outbox figures: both would be stale.
        return encode(
            DeviceStatus(
                site=self._site,
                device=self._device,
                state=DeviceState.OFFLINE,
                agent_version=self._agent_version,
            )
        )

    def _status(self, state: DeviceState) -> bytes:
        return encode(
            DeviceStatus(
                site=self._site,
                device=self._device,
                state=state,
                at=self._clock.now(),
                agent_version=self._agent_version,
                config_hash=self._config_hash,
                drivers=self._drivers,
                outbox=OutboxState(
                    pending=self.outbox.pending(),
                    pending_bytes=self.outbox.pending_bytes(),
                    dropped=dict(self.outbox.stats.dropped),
                ),
            )
        )

    def publish_status(self) -> None:
        """Republish the retained `online` status (driver health, outbox depth)."""
        if self._connected.is_set():
            self._client.publish(
                status_topic(self._site, self._device),
                self._status(DeviceState.ONLINE),
                qos=1,
                retain=True,
            )

    def update_drivers(self, drivers: dict[str, str]) -> None:
        """Republish the status when driver health changes."""
        if drivers != self._drivers:
            self._drivers = dict(drivers)
            self.publish_status()

    # ---- paho callbacks (network thread) -------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("MQTT connection to %s refused: %s", self._address, rc)
            return
        self.stats.connects += 1
        log.info("connected to MQTT broker %s", self._address)
        if self._on_command is not None:
            client.subscribe(cmd_topic(self._site, self._device), qos=1)
        self._connected.set()
        self.publish_status()
        self._wake.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self._connected.clear()
        if rc.is_failure and not self._closing:
            log.warning("lost MQTT connection to %s (%s); reconnecting", self._address, rc)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if self._on_command is not None:
            self._on_command(bytes(msg.payload), bool(msg.retain))

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        # paho calls this holding its own message lock: never call paho from here.
        with self._lock:
            item_id = self._in_flight.pop(mid, None)
            if item_id is None:
                self._early_acks.add(mid)  # acked before pump() recorded the mid
                return
        self._acked(item_id)

    def _acked(self, item_id: int) -> None:
        self.outbox.accept([item_id])
        self.stats.messages_acked += 1
        self._wake.set()

    # ---- outbox pump ----------------------------------------------------------

    def publish(self, batch: ReadingsBatch) -> None:
        """Keep a readings message in the outbox; it is sent when the broker can take it."""
        self.outbox.add(readings_topic(self._site, self._device), encode(batch))
        self._wake.set()

    def publish_events(self, batch: EventsBatch) -> None:
        """Keep an events message in the outbox."""
        self.outbox.add(events_topic(self._site, self._device), encode(batch))
        self._wake.set()

    def _run_pump(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(_PUMP_IDLE_S)
            self._wake.clear()
            self.pump()

    def pump(self) -> int:
        """Send outbox messages while connected and the in-flight window has room."""
        sent = 0
        while self._connected.is_set() and not self._stop.is_set():
            with self._lock:
                room = self._max_in_flight - len(self._in_flight)
            if room <= 0:
                break
            items = self.outbox.take(room)
            if not items:
                break
            for i, item in enumerate(items):
                # Not under self._lock: paho takes its own locks here, and calls
                # on_publish (which takes self._lock) while holding them.
                info = self._client.publish(item.topic, item.payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    # Not queued by paho (connection just dropped): back to the outbox.
                    self.outbox.reject([it.id for it in items[i:]])
                    return sent
                with self._lock:
                    early = info.mid in self._early_acks
                    if early:
                        self._early_acks.discard(info.mid)
                    else:
                        self._in_flight[info.mid] = item.id
                if early:
                    self._acked(item.id)
                sent += 1
                self.stats.messages_sent += 1
        return sent

    # ---- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; reconnects by itself with capped backoff."""
        self._client.connect_async(
            self._address.host, self._address.port, keepalive=self._connection.keepalive_s
        )
        self._client.loop_start()
        self._pump.start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def flush(self, timeout_s: float) -> bool:
        """Wait until the outbox is empty (everything acknowledged), up to `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while self.outbox.pending() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.05)
        return self.outbox.pending() == 0

    def close(self, timeout_s: float = 5.0) -> None:
        """Send what can be sent quickly, publish an explicit `offline`, disconnect.

        Whatever is not acknowledged stays in the outbox for the next start.
        """
        if self._connected.is_set():
            self.flush(min(timeout_s, 2.0))
        self._stop.set()
        self._wake.set()
        if self._pump.is_alive():
            self._pump.join(timeout_s)
        if self._connected.is_set():
            info = self._client.publish(
                status_topic(self._site, self._device),
                self._status(DeviceState.OFFLINE),
                qos=1,
                retain=True,
            )
            try:
                info.wait_for_publish(timeout_s)
            except RuntimeError:
                log.warning("offline status could not be sent before shutdown")
        self._closing = True
        self._client.disconnect()
        self._client.loop_stop()
