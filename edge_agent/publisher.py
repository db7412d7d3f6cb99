"""The agent's MQTT connection (paho-mqtt 2): readings, events and status out,
commands in.

Status is retained: an `online` birth message on every connect, the broker's
last will `offline` if the agent vanishes, and an explicit `offline` on a clean
shutdown. Readings go out at QoS 1; paho retransmits unacknowledged ones after
a reconnect.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from vmi.clock import Clock
from vmi.urls import MqttAddress
from vmi.wire import (
    DeviceState,
    DeviceStatus,
    EventsBatch,
    ReadingsBatch,
    cmd_topic,
    encode,
    events_topic,
    readings_topic,
    status_topic,
)

log = logging.getLogger(__name__)


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
        address: MqttAddress,
        client_id: str,
        site: str,
        device: str,
        clock: Clock,
        agent_version: str,
        drivers: dict[str, str],
        keepalive_s: int = 30,
        on_command: Callable[[bytes], None] | None = None,
    ) -> None:
        self._address = address
        self._site = site
        self._device = device
        self._clock = clock
        self._agent_version = agent_version
        self._drivers = drivers
        self._keepalive_s = keepalive_s
        self._on_command = on_command
        self._connected = threading.Event()
        self._closing = False
        self.stats = PublisherStats()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        if address.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.will_set(
            status_topic(site, device), self._status(DeviceState.OFFLINE), qos=1, retain=True
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message

    def _status(self, state: DeviceState) -> bytes:
        return encode(
            DeviceStatus(
                site=self._site,
                device=self._device,
                state=state,
                at=self._clock.now(),
                agent_version=self._agent_version,
                drivers=self._drivers,
            )
        )

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("MQTT connection to %s refused: %s", self._address, rc)
            return
        self.stats.connects += 1
        log.info("connected to MQTT broker %s", self._address)
        if self._on_command is not None:
            client.subscribe(cmd_topic(self._site, self._device), qos=1)
        client.publish(
            status_topic(self._site, self._device),
            self._status(DeviceState.ONLINE),
            qos=1,
            retain=True,
        )
        self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self._connected.clear()
        if rc.is_failure and not self._closing:
            log.warning("lost MQTT connection to %s (%s); reconnecting", self._address, rc)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if self._on_command is not None:
            self._on_command(bytes(msg.payload))

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, _rc: Any, _p: Any) -> None:
        self.stats.messages_acked += 1

    def start(self) -> None:
        """Connect in the background; reconnects by itself with capped backoff."""
        self._client.connect_async(
            self._address.host, self._address.port, keepalive=self._keepalive_s
        )
        self._client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def publish(self, batch: ReadingsBatch) -> None:
        """Queue one readings message at QoS 1 (sent now, or after reconnect)."""
        self._client.publish(readings_topic(self._site, self._device), encode(batch), qos=1)
        self.stats.messages_sent += 1

    def publish_events(self, batch: EventsBatch) -> None:
        """Queue one events message at QoS 1."""
        self._client.publish(events_topic(self._site, self._device), encode(batch), qos=1)
        self.stats.messages_sent += 1

    def update_drivers(self, drivers: dict[str, str]) -> None:
        """Republish the retained status when driver health changes."""
        if drivers == self._drivers:
            return
        self._drivers = dict(drivers)
        if self._connected.is_set():
            self._client.publish(
                status_topic(self._site, self._device),
                self._status(DeviceState.ONLINE),
                qos=1,
                retain=True,
            )

    def close(self, timeout_s: float = 5.0) -> None:
        """Publish an explicit `offline`, wait for it, and disconnect."""
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
