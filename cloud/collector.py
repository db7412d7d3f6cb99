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
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cloud.config import CloudConfig
from cloud.errors import StoreError, StoreRejected, StoreUnavailable
from cloud.orders import OrderBook
from cloud.points import alert_point, event_points, levels_of, status_point
from cloud.replenisher import Replenisher
from cloud.sequence import SequenceTracker
from cloud.timeseries.base import LevelPoint, Point, TimeSeriesStore
from vmi.clock import Clock, SystemClock
from vmi.errors import WireError
from vmi.wire import (
    EVENTS_FILTER,
    READINGS_FILTER,
    STATUS_FILTER,
    Alert,
    DeadLetter,
    alerts_topic,
    deadletter_topic,
    decode_events,
    decode_readings,
    decode_status,
    encode,
    split_device_topic,
)

log = logging.getLogger(__name__)

_RETRY_FIRST_S = 0.5
_RETRY_MAX_S = 15.0
_DEADLETTER_PAYLOAD_MAX = 4096


@dataclass
class CollectorStats:
    """One collector's counters since it started (see cloud/metrics.py)."""

    arrived: Counter[str] = field(default_factory=Counter)  # messages by kind
    readings_written: int = 0
    events_written: int = 0
    statuses_written: int = 0
    writes: int = 0
    write_seconds: float = 0.0  # total time in successful writes
    write_retries: int = 0
    lag_s: float = 0.0  # receive time minus send time of the newest message
    rejected: Counter[str] = field(default_factory=Counter)
    sequences: SequenceTracker = field(default_factory=SequenceTracker)

    @property
    def messages(self) -> int:
        """MQTT messages received, all kinds."""
        return sum(self.arrived.values())


@dataclass
class Inbound:
    """What one accepted message stores, and which (site, SKU)s it touches."""

    levels: list[LevelPoint] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    sent_at: datetime | None = None
    touched: set[tuple[str, str]] = field(default_factory=set)


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
        self._address = config.mqtt.address
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
        config.mqtt.configure(self._client)
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
    def subscriptions(self) -> list[str]:
        """Readings and events, shared when a group is set; status, never shared.

        Status is retained and small: every collector takes all of it, so a
        device's online state is stored whichever collector is up.
        """
        group = self.config.mqtt.share_group
        shared = [f"$share/{group}/{f}" if group else f for f in (READINGS_FILTER, EVENTS_FILTER)]
        return [*shared, STATUS_FILTER]

    # ---- MQTT thread --------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.warning("MQTT connection to %s refused: %s", self._address, rc)
            return
        client.subscribe([(topic, 1) for topic in self.subscriptions])
        log.info("collector connected to %s, subscribed to %s", self._address, self.subscriptions)
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
        accepted: list[tuple[mqtt.MQTTMessage, Inbound]] = []
        for msg in msgs:
            self.stats.arrived[msg.topic.rsplit("/", 1)[-1]] += 1
            try:
                accepted.append((msg, self._decode(msg)))
            except WireError as exc:
                self._reject(msg, exc.reason, exc.detail)
        sent = [i.sent_at for _, i in accepted if i.sent_at is not None]
        if sent:
            self.stats.lag_s = max((self.clock.now() - max(sent)).total_seconds(), 0.0)
        if accepted and not self._write(accepted):
            return  # stopping: leave everything unacknowledged for redelivery
        for msg in msgs:
            self._client.ack(msg.mid, msg.qos)
        self.replenisher.touch({key for _, i in accepted for key in i.touched})

    def _decode(self, msg: mqtt.MQTTMessage) -> Inbound:
        """What one message stores; raises `WireError` with a dead-letter reason."""
        kind = msg.topic.rsplit("/", 1)[-1]
        payload = bytes(msg.payload)
        if kind == "readings":
            batch = decode_readings(msg.topic, payload)
            self.stats.sequences.see(batch.site, batch.device, batch.seq)
            return Inbound(
                levels=levels_of(batch),
                sent_at=batch.sent_at,
                touched={(batch.site, r.sku) for r in batch.readings},
            )
        if kind == "events":
            events = decode_events(msg.topic, payload)
            return Inbound(points=event_points(events), sent_at=events.sent_at)
        if kind == "status":
            status = decode_status(msg.topic, payload)
            return Inbound(points=[status_point(status, self.clock.now())])
        split_device_topic(msg.topic)  # a foreign topic says so
        raise WireError("topic", f"no such message kind {kind!r} on {msg.topic!r}")

    def _write(self, accepted: list[tuple[mqtt.MQTTMessage, Inbound]]) -> bool:
        """Write all points, retrying while the store is down. False if stopped first."""
        levels = [p for _, i in accepted for p in i.levels]
        points = [p for _, i in accepted for p in i.points]
        delay = _RETRY_FIRST_S
        while True:
            try:
                started = time.monotonic()
                if levels:
                    self.store.write_levels(levels)
                if points:
                    self.store.write_points(points)
                self.stats.write_seconds += time.monotonic() - started
                self.stats.writes += 1
                for _, inbound in accepted:
                    self._count_written(inbound)
                return True
            except StoreUnavailable as exc:
                self.stats.write_retries += 1
                log.warning("store unavailable (%s); retrying in %.1fs", exc, delay)
            except StoreRejected:
                # Some message's data was refused: find it, write the rest.
                self._write_one_by_one(accepted)
                return True
            if self._stop.wait(delay):
                return False
            delay = min(delay * 2, _RETRY_MAX_S)

    def _write_one_by_one(self, accepted: list[tuple[mqtt.MQTTMessage, Inbound]]) -> None:
        for msg, inbound in accepted:
            try:
                self.store.write_levels(inbound.levels)
                self.store.write_points(inbound.points)
                self._count_written(inbound)
            except StoreRejected as exc:
                self._reject(msg, "store_rejected", str(exc))

    def _count_written(self, inbound: Inbound) -> None:
        self.stats.readings_written += len(inbound.levels)
        kinds = Counter(p.measurement for p in inbound.points)
        self.stats.events_written += kinds["stock_event"]
        self.stats.statuses_written += kinds["device_status"]

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
        try:
            self.store.write_points([alert_point(alert)])
        except StoreError as exc:
            # The alert went out and its order is in SQL; only the chart misses it.
            log.warning("alert published but not stored (%s)", exc)
