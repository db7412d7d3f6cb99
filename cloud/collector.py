"""The collector: MQTT readings in, levels durably written, then acknowledged.

paho's network thread only queues messages; a worker thread decodes a batch,
writes its levels to the time-series store, and only then acknowledges the
messages to the broker (manual ack, QoS 1): at-least-once end to end. Until a
message is acknowledged the broker holds it and stops sending once its
in-flight window is full, which bounds memory when the store is down.

Malformed payloads are counted, logged with the reason, republished to
`vmi/v1/_deadletter/<reason>`, acknowledged, and change nothing else.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cloud.config import CloudConfig
from cloud.errors import StoreRejected, StoreUnavailable
from cloud.orders import OrderBook
from cloud.replenisher import Replenisher
from cloud.sequence import SequenceTracker
from cloud.timeseries.base import LevelPoint, TimeSeriesStore
from vmi.clock import Clock, SystemClock
from vmi.errors import WireError
from vmi.urls import parse_mqtt_url
from vmi.wire import (
    READINGS_FILTER,
    Alert,
    DeadLetter,
    ReadingsBatch,
    alerts_topic,
    deadletter_topic,
    decode_readings,
    encode,
)

log = logging.getLogger(__name__)

_RETRY_FIRST_S = 0.5
_RETRY_MAX_S = 15.0
_DEADLETTER_PAYLOAD_MAX = 4096


@dataclass
class CollectorStats:
    messages: int = 0
    readings_written: int = 0
    writes: int = 0
    write_seconds: float = 0.0  # total time in successful writes
    write_retries: int = 0
    lag_s: float = 0.0  # receive time minus send time of the newest message
    rejected: Counter[str] = field(default_factory=Counter)
    sequences: SequenceTracker = field(default_factory=SequenceTracker)


def levels_of(batch: ReadingsBatch) -> list[LevelPoint]:
    """The level points a readings message stores."""
    return [
        LevelPoint(
            site=batch.site,
            device=batch.device,
            location=r.location,
            sku=r.sku,
            time=r.time,
            quantity=r.quantity,
            source=r.source.value,
            raw_weight_g=r.raw_weight_g,
            stable=r.stable,
            seq=batch.seq,
        )
        for r in batch.readings
    ]


class Collector:
    """Subscribes to readings, stores them, and drives replenishment."""

    def __init__(
        self,
        config: CloudConfig,
        *,
        store: TimeSeriesStore,
        orders: OrderBook,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.store = store
        self.orders = orders
        self.stats = CollectorStats()
        self.replenisher = Replenisher(
            config.replenishment,
            store=store,
            orders=orders,
            clock=self.clock,
            publish_alert=self._publish_alert,
        )
        self._address = parse_mqtt_url(config.mqtt.url)
        self._inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._current = 0
        self._worker = threading.Thread(target=self._work, name="collector", daemon=True)
        self._evaluator = threading.Thread(
            target=self.replenisher.run, args=(self._stop,), name="replenisher", daemon=True
        )
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.mqtt.client_id,
            clean_session=config.mqtt.clean_session,
            manual_ack=True,
        )
        if self._address.username:
            self._client.username_pw_set(self._address.username, self._address.password)
        if self._address.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def in_flight(self) -> int:
        """Messages received and not yet acknowledged (queued or being written)."""
        return self._inbox.qsize() + self._current

    @property
    def subscription(self) -> str:
        group = self.config.mqtt.share_group
        return f"$share/{group}/{READINGS_FILTER}" if group else READINGS_FILTER

    # ---- MQTT thread --------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("MQTT connection to %s refused: %s", self._address, rc)
            return
        client.subscribe(self.subscription, qos=1)
        log.info("collector connected to %s, subscribed to %s", self._address, self.subscription)
        self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self._connected.clear()
        if rc.is_failure and not self._stop.is_set():
            log.warning("collector lost its MQTT connection (%s); reconnecting", rc)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put(msg)

    # ---- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        self._client.connect_async(
            self._address.host, self._address.port, keepalive=self.config.mqtt.keepalive_s
        )
        self._client.loop_start()
        self._worker.start()
        self._evaluator.start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def stop(self) -> None:
        """Stop reading; unacknowledged messages stay with the broker."""
        self._stop.set()
        for thread in (self._worker, self._evaluator):
            if thread.is_alive():
                thread.join(timeout=30)
        self._client.disconnect()
        self._client.loop_stop()

    # ---- worker -------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            msgs = [first]
            while len(msgs) < self.config.max_batch_messages:
                try:
                    msgs.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            self._current = len(msgs)
            try:
                self.handle(msgs)
            except Exception:
                # A bug must not silently stop ingest; the messages stay unacked
                # and come back after a reconnect.
                log.exception("collector batch failed; messages left unacknowledged")
            finally:
                self._current = 0

    def handle(self, msgs: list[mqtt.MQTTMessage]) -> None:
        """Decode, store, acknowledge and evaluate one batch of messages."""
        accepted: list[tuple[mqtt.MQTTMessage, ReadingsBatch]] = []
        for msg in msgs:
            self.stats.messages += 1
            try:
                batch = decode_readings(msg.topic, bytes(msg.payload))
            except WireError as exc:
                self._reject(msg, exc.reason, exc.detail)
                continue
            accepted.append((msg, batch))
            self.stats.sequences.see(batch.site, batch.device, batch.seq)
        if accepted:
            newest = max(b.sent_at for _, b in accepted)
            self.stats.lag_s = max((self.clock.now() - newest).total_seconds(), 0.0)
        if accepted and not self._write([levels_of(b) for _, b in accepted], accepted):
            return  # stopping: leave everything unacknowledged for redelivery
        for msg in msgs:
            self._client.ack(msg.mid, msg.qos)
        self.replenisher.touch({(b.site, r.sku) for _, b in accepted for r in b.readings})

    def _write(
        self,
        per_message: list[list[LevelPoint]],
        accepted: list[tuple[mqtt.MQTTMessage, ReadingsBatch]],
    ) -> bool:
        """Write all points, retrying while the store is down. False if stopped first."""
        points = [p for pts in per_message for p in pts]
        delay = _RETRY_FIRST_S
        while True:
            try:
                started = time.monotonic()
                self.store.write_levels(points)
                self.stats.write_seconds += time.monotonic() - started
                self.stats.writes += 1
                self.stats.readings_written += len(points)
                return True
            except StoreUnavailable as exc:
                self.stats.write_retries += 1
                log.warning("store unavailable (%s); retrying in %.1fs", exc, delay)
            except StoreRejected:
                # Some message's data was refused: find it, write the rest.
                self._write_one_by_one(per_message, accepted)
                return True
            if self._stop.wait(delay):
                return False
            delay = min(delay * 2, _RETRY_MAX_S)

    def _write_one_by_one(
        self,
        per_message: list[list[LevelPoint]],
        accepted: list[tuple[mqtt.MQTTMessage, ReadingsBatch]],
    ) -> None:
        for pts, (msg, _) in zip(per_message, accepted, strict=True):
            try:
                self.store.write_levels(pts)
                self.stats.readings_written += len(pts)
            except StoreRejected as exc:
                self._reject(msg, "store_rejected", str(exc))

    def _reject(self, msg: mqtt.MQTTMessage, reason: str, detail: str) -> None:
        self.stats.rejected[reason] += 1
        log.warning("rejected message on %s: %s: %s", msg.topic, reason, detail)
        letter = DeadLetter(
            reason=reason,
            detail=detail[:1000],
            topic=msg.topic,
            payload=msg.payload[:_DEADLETTER_PAYLOAD_MAX].decode("utf-8", "replace"),
            at=self.clock.now(),
        )
        self._client.publish(deadletter_topic(reason), encode(letter), qos=0)

    def _publish_alert(self, alert: Alert) -> None:
        self._client.publish(alerts_topic(alert.site), encode(alert), qos=1)
