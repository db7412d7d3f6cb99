"""The collector: MQTT readings in, levels durably written, then acknowledged.

paho's network thread only queues messages; a decode thread turns a batch
into what it stores, and a write thread writes it to the time-series store
and only then acknowledges the messages to the broker (manual ack, QoS 1):
at-least-once end to end. The two overlap: batches are decoded while the
previous ones are written, and the write thread merges whatever has been
decoded meanwhile into its next write, so writes stay large. Until
a message is acknowledged the broker holds it and stops sending once its
in-flight window is full, which bounds memory when the store is down.

Malformed payloads are counted, logged with the reason, republished to
`vmi/v1/_deadletter/<reason>`, acknowledged, and change nothing else. With a
catalog configured, so are messages from devices it does not know
(`unknown_device`) or knows at another site (`site_mismatch`).

The hot path (readings into InfluxDB): pydantic-core parses and checks a
message in one pass (`decode_readings`), its levels become line protocol at
once (`level_lines`, no point objects), a batch is one gzip write, and its
PUBACKs one socket write (`IngestClient`). `bench/ingest.py` measures it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from cloud.alert_state import AlertState
from cloud.catalog import Catalog
from cloud.config import CloudConfig
from cloud.device_registry import DeviceRegistry
from cloud.errors import StoreRejected, StoreUnavailable
from cloud.inbound import Inbound, decode_message
from cloud.mqtt_ingest import IngestClient, Received
from cloud.orders import OrderBook
from cloud.replenisher import Replenisher
from cloud.sequence import SequenceTracker
from cloud.timeseries.base import TimeSeriesStore
from cloud.timeseries.influx import InfluxStore
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
    encode,
)

log = logging.getLogger(__name__)

_BATCH_BYTES = 1 << 20  # payload bytes per decoded batch
_DECODED_MAX = 16  # decoded batches waiting for the write thread, at most
_WRITE_LINES = 50_000  # a write merges decoded batches up to about this many lines
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


@dataclass(slots=True)
class _Decoded:
    """A decoded batch on its way to the write thread."""

    msgs: list[Received]
    accepted: list[tuple[Received, Inbound]]

    @property
    def size(self) -> int:
        """About how many lines or points the batch writes."""
        return sum(i.readings + i.events + i.statuses for _, i in self.accepted)


class Collector:
    """Subscribes to readings, stores them, and drives replenishment."""

    def __init__(
        self,
        config: CloudConfig,
        *,
        store: TimeSeriesStore,
        orders: OrderBook,
        alert_state: AlertState,
        catalog: Catalog | None = None,
        clock: Clock | None = None,
        registry: DeviceRegistry | None = None,
    ) -> None:
        """`catalog`: agreements for replenishment, and (when `config.catalog` names
        one) the device registry; `registry`: check devices against this one instead."""
        self.config = config
        self.clock = clock or SystemClock()
        self.store = store
        self.orders = orders
        self.stats = CollectorStats()
        # The registry's own catalog, when the caller gave none: closed by stop().
        self._registry_catalog: Catalog | None = None
        if registry is None and config.catalog.url is not None:
            if catalog is None:
                catalog_for_registry = self._registry_catalog = Catalog(config.catalog.url)
            else:
                catalog_for_registry = catalog
            registry = DeviceRegistry(
                catalog_for_registry.site_of_device,
                ttl_s=config.catalog.cache_ttl_s,
                max_entries=config.catalog.cache_max_devices,
            )
        self.registry = registry
        self.replenisher = Replenisher(
            config.replenishment,
            store=store,
            orders=orders,
            alert_state=alert_state,
            catalog=catalog,
            clock=self.clock,
            publish_alert=self._publish_alert,
        )
        # Told of every alert after it is published on MQTT.
        self.alert_listeners: list[Callable[[Alert], object]] = []
        # InfluxDB takes line protocol: render it at decode time, no point objects.
        self._line_store = store if isinstance(store, InfluxStore) else None
        self._address = config.mqtt.address
        self._inbox: deque[Received] = deque()
        self._arrived = threading.Event()
        self._decoded: queue.Queue[_Decoded] = queue.Queue(maxsize=_DECODED_MAX)
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._taken = 0  # messages out of the inbox and not yet acknowledged or dropped
        self._taken_lock = threading.Lock()
        self._worker = threading.Thread(target=self._work, name="collector", daemon=True)
        self._writer = threading.Thread(target=self._write_loop, name="writer", daemon=True)
        self._evaluator = threading.Thread(
            target=self.replenisher.run, args=(self._stop,), name="replenisher", daemon=True
        )
        self._client = IngestClient(
            CallbackAPIVersion.VERSION2,
            client_id=config.mqtt.client_id,
            clean_session=config.mqtt.clean_session,
            manual_ack=True,
        )
        config.mqtt.configure(self._client)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_delivery = self._on_delivery
        self._client.on_disconnect = self._on_disconnect

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def in_flight(self) -> int:
        """Messages received and not yet acknowledged (queued or being written)."""
        return len(self._inbox) + self._taken

    @property
    def subscriptions(self) -> list[str]:
        """Readings and events, shared when a group is set; status, never shared.

        Status is retained and small: every collector takes all of it, so a
        device's online state is stored whichever collector is up.
        """
        group = self.config.mqtt.share_group
        shared = [f"$share/{group}/{f}" if group else f for f in (READINGS_FILTER, EVENTS_FILTER)]
        return [*shared, STATUS_FILTER] if self.config.mqtt.subscribe_status else shared

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
        self._on_delivery(msg)

    def _on_delivery(self, msg: Received) -> None:
        self._inbox.append(msg)
        if not self._arrived.is_set():
            self._arrived.set()

    # ---- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        self._client.connect_async(
            self._address.host, self._address.port, keepalive=self.config.mqtt.keepalive_s
        )
        self._client.loop_start()
        self._worker.start()
        self._writer.start()
        self._evaluator.start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def stop(self) -> None:
        """Stop reading; unacknowledged messages stay with the broker."""
        self._stop.set()
        for thread in (self._worker, self._writer, self._evaluator):
            if thread.is_alive():
                thread.join(timeout=30)
        self._client.disconnect()
        self._client.loop_stop()
        if self._registry_catalog is not None:
            self._registry_catalog.close()

    # ---- worker -------------------------------------------------------------

    def _work(self) -> None:
        """The decode thread: batches from the inbox to the write thread."""
        while not self._stop.is_set():
            msgs = self._take()
            if not msgs:
                continue
            try:
                decoded = self._decode_batch(msgs)
            except Exception:
                # A bug must not silently stop ingest; the messages stay unacked
                # and come back after a reconnect.
                log.exception("collector batch failed; messages left unacknowledged")
                decoded = None
            if decoded is None:
                self._untake(len(msgs))
                continue
            while not self._stop.is_set():
                try:
                    self._decoded.put(decoded, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def _take(self) -> list[Received]:
        """The next batch: up to `max_batch_messages` messages and about 1 MiB."""
        inbox = self._inbox
        if not inbox:
            self._arrived.wait(0.2)
            self._arrived.clear()
            return []  # look again: a message may have come in before the clear
        msgs: list[Received] = []
        size = 0
        for _ in range(min(len(inbox), self.config.max_batch_messages)):
            msg = inbox.popleft()
            msgs.append(msg)
            size += len(msg.payload)
            if size >= _BATCH_BYTES:
                break
        with self._taken_lock:
            self._taken += len(msgs)
        return msgs

    def _untake(self, count: int) -> None:
        with self._taken_lock:
            self._taken -= count

    def _write_loop(self) -> None:
        """The write thread: store, acknowledge, evaluate what has been decoded."""
        while not self._stop.is_set():
            try:
                decoded = self._decoded.get(timeout=0.2)
            except queue.Empty:
                continue
            size = decoded.size
            while size < _WRITE_LINES:
                try:
                    more = self._decoded.get_nowait()
                except queue.Empty:
                    break
                decoded.msgs += more.msgs
                decoded.accepted += more.accepted
                size += more.size
            try:
                self._commit(decoded)
            except Exception:
                log.exception("collector batch failed; messages left unacknowledged")
            finally:
                self._untake(len(decoded.msgs))

    def handle(self, msgs: list[Received]) -> None:
        """Decode, store, acknowledge and evaluate one batch of messages."""
        decoded = self._decode_batch(msgs)
        if decoded is not None:
            self._commit(decoded)

    def _decode_batch(self, msgs: list[Received]) -> _Decoded | None:
        """Decode a batch; rejected messages are dead-lettered here. None if stopped."""
        sites = self._registered_sites(msgs)
        if sites is None:
            return None  # stopping while the catalog was down: nothing acknowledged
        accepted: list[tuple[Received, Inbound]] = []
        kinds: Counter[str] = Counter()
        newest: datetime | None = None
        as_lines = self._line_store is not None
        registered = sites if self.registry is not None else None
        # Status has no time of its own: stamp a batch's status at arrival.
        received_at = self.clock.now()
        for msg in msgs:
            kinds[msg.topic.rsplit("/", 1)[-1]] += 1
            payload = msg.payload if type(msg.payload) is bytes else bytes(msg.payload)
            try:
                inbound = decode_message(
                    msg.topic,
                    payload,
                    received_at=received_at,
                    as_lines=as_lines,
                    sequences=self.stats.sequences,
                    registered=registered,
                )
            except WireError as exc:
                self._reject(msg, exc.reason, exc.detail)
                continue
            accepted.append((msg, inbound))
            if inbound.sent_at is not None and (newest is None or inbound.sent_at > newest):
                newest = inbound.sent_at
        self.stats.arrived.update(kinds)
        if newest is not None:
            self.stats.lag_s = max((received_at - newest).total_seconds(), 0.0)
        return _Decoded(msgs, accepted)

    def _commit(self, decoded: _Decoded) -> None:
        """Write, then acknowledge every message of the batch (rejected ones too)."""
        accepted = decoded.accepted
        if accepted and not self._write(accepted):
            return  # stopping: leave everything unacknowledged for redelivery
        self._client.ack_all(decoded.msgs)
        self.replenisher.touch({key for _, i in accepted for key in i.touched})
        for _, inbound in accepted:
            if inbound.events_batch is not None:
                self.replenisher.notice_events(inbound.events_batch)

    def _registered_sites(self, msgs: list[Received]) -> dict[str, str | None] | None:
        """The catalog's site of each device in the batch ({} without a registry).

        Asked before anything is decoded, so a catalog outage only delays the
        batch (retried like a store outage); None if stopped meanwhile.
        """
        if self.registry is None:
            return {}
        devices = {parts[3] for parts in (m.topic.split("/") for m in msgs) if len(parts) == 5}
        delay = _RETRY_FIRST_S
        while True:
            try:
                return self.registry.sites_of(devices)
            except StoreUnavailable as exc:
                log.warning("catalog unavailable (%s); retrying in %.1fs", exc, delay)
            if self._stop.wait(delay):
                return None
            delay = min(delay * 2, _RETRY_MAX_S)

    def _store(self, inbounds: list[Inbound]) -> None:
        """One write of everything `inbounds` stores (may raise `StoreError`)."""
        if self._line_store is not None:
            self._line_store.write_lines([line for i in inbounds for line in i.lines])
            return
        levels = [p for i in inbounds for p in i.levels]
        points = [p for i in inbounds for p in i.points]
        if levels:
            self.store.write_levels(levels)
        if points:
            self.store.write_points(points)

    def _write(self, accepted: list[tuple[Received, Inbound]]) -> bool:
        """Write all points, retrying while the store is down. False if stopped first."""
        inbounds = [i for _, i in accepted]
        delay = _RETRY_FIRST_S
        while True:
            try:
                started = time.monotonic()
                self._store(inbounds)
                self.stats.write_seconds += time.monotonic() - started
                self.stats.writes += 1
                for inbound in inbounds:
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

    def _write_one_by_one(self, accepted: list[tuple[Received, Inbound]]) -> None:
        for msg, inbound in accepted:
            try:
                self._store([inbound])
                self._count_written(inbound)
            except StoreRejected as exc:
                self._reject(msg, "store_rejected", str(exc))

    def _count_written(self, inbound: Inbound) -> None:
        self.stats.readings_written += inbound.readings
        self.stats.events_written += inbound.events
        self.stats.statuses_written += inbound.statuses

    def _reject(self, msg: Received, reason: str, detail: str) -> None:
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
        for listener in self.alert_listeners:
            listener(alert)  # the webhook notifier and the charts; neither blocks
