"""The collector: MQTT readings in, levels durably written, then acknowledged.

The collector only ingests. After each commit it tells its listeners what
the commit stored (`Committed`: the (site, SKU)s with new levels and the
events batches), and it publishes the alerts it is handed
(`publish_alert`); what is done with either is wired by `CloudService`.

paho's network thread only queues messages; the decode loop
(`run_decoding`) turns a batch into what it stores, and the write loop
(`run_writing`) writes it to the time-series store and only then
acknowledges the messages to the broker (manual ack, QoS 1): at-least-once
end to end. The owner runs each loop in a thread of its own. The two
overlap: batches are decoded while the previous ones are written, and the
write loop merges whatever has been
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

from cloud.catalog import Catalog
from cloud.config import CloudConfig
from cloud.errors import StoreError, StoreRejected, StoreUnavailable
from cloud.ingest.decode import Inbound, decode_message
from cloud.ingest.device_registry import DeviceRegistry, Registration, catalog_lookup
from cloud.ingest.mqtt_client import IngestClient, Received
from cloud.ingest.sequence import SequenceTracker
from cloud.timeseries.base import DatabaseCreator, LineProtocolStore, TimeSeriesStore
from vmi.clock import Clock, SystemClock
from vmi.errors import WireError
from vmi.wire import (
    EVENTS_FILTER,
    READINGS_FILTER,
    STATUS_FILTER,
    Alert,
    DeadLetter,
    DeadLetterReason,
    EventsBatch,
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
    """One collector's counters since it started (see cloud/ingest/metrics.py)."""

    arrived: Counter[str] = field(default_factory=Counter)  # messages by kind
    readings_written: int = 0
    events_written: int = 0
    statuses_written: int = 0
    writes: int = 0
    write_seconds: float = 0.0  # total time in successful writes
    write_retries: int = 0
    store_failures: Counter[str] = field(default_factory=Counter)  # by StoreUnavailable.reason
    store_error: str | None = None  # why the store is unavailable now; None while it works
    databases_created: int = 0  # a missing database created again
    commit_failures: int = 0  # commits that failed on a bug and were retried
    lag_s: float = 0.0  # receive time minus send time of the newest message
    rejected: Counter[DeadLetterReason] = field(default_factory=Counter)
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


@dataclass(frozen=True, slots=True)
class Committed:
    """What one commit stored: told to the collector's listeners after the acknowledgement."""

    keys: frozenset[tuple[str, str]]  # (site, SKU)s with new levels
    events: tuple[EventsBatch, ...]  # events messages, in arrival order


CommitListener = Callable[[Committed], None]
"""Called in the write thread after every commit; it must not block."""


class Collector:
    """Subscribes to device messages, stores them, acknowledges them, and says what it stored."""

    def __init__(
        self,
        config: CloudConfig,
        *,
        store: TimeSeriesStore,
        catalog: Catalog | None = None,
        stop: threading.Event,
        clock: Clock | None = None,
        registry: DeviceRegistry | None = None,
    ) -> None:
        """`stop`: once set, `run_decoding` and `run_writing` end (the owner sets it);
        `catalog`: the device registry's, when `config.catalog` names one (the
        collector opens its own otherwise); `registry`: check devices against this one."""
        self.config = config
        self.clock = clock or SystemClock()
        self.store = store
        self.stats = CollectorStats()
        # The registry's own catalog, when the caller gave none: closed by disconnect().
        self._registry_catalog: Catalog | None = None
        if registry is None and config.catalog.url is not None:
            if catalog is None:
                catalog_for_registry = self._registry_catalog = Catalog(config.catalog.url)
            else:
                catalog_for_registry = catalog
            registry = DeviceRegistry(
                catalog_lookup(catalog_for_registry),
                ttl_s=config.catalog.cache_ttl_s,
                max_entries=config.catalog.cache_max_devices,
            )
        self.registry = registry
        # Told what each commit stored (the replenisher, the sensor watch).
        self.commit_listeners: list[CommitListener] = []
        # A store that takes line protocol (InfluxDB) gets lines rendered at
        # decode time, no point objects.
        self._line_store = store if isinstance(store, LineProtocolStore) else None
        # Who creates a missing database again: the store, where it can and may.
        self._creator: DatabaseCreator | None = None
        if config.store.create_database and isinstance(store, DatabaseCreator):
            self._creator = store
        self._address = config.mqtt.address
        self._inbox: deque[Received] = deque()
        self._arrived = threading.Event()
        self._decoded: queue.Queue[_Decoded] = queue.Queue(maxsize=_DECODED_MAX)
        self._stop = stop
        self._connected = threading.Event()
        # Messages received and not yet acknowledged (or given up), and their
        # payload bytes: at `max_held_*` the client stops reading the socket.
        # Received minus released: each pair has one writer, so the network
        # thread counts a message without taking a lock.
        self._received = 0  # paho's network thread only
        self._received_bytes = 0
        self._released = 0  # under _release_lock (decode and write threads)
        self._released_bytes = 0
        self._release_lock = threading.Lock()
        self._client = IngestClient(
            CallbackAPIVersion.VERSION2,
            client_id=config.mqtt.client_id,
            clean_session=config.mqtt.clean_session,
            manual_ack=True,
        )
        config.mqtt.configure(self._client)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.on_delivery = self._on_delivery
        self._client.paused = lambda: self.reading_paused
        self._client.on_disconnect = self._on_disconnect

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def in_flight(self) -> int:
        """Messages received and not yet acknowledged (queued, being written or retried)."""
        return self._received - self._released

    @property
    def pauses(self) -> int:
        """How often reading from the broker was paused (`reading_paused`)."""
        return self._client.pauses

    @property
    def held_bytes(self) -> int:
        """Payload bytes of the messages `in_flight` counts."""
        return self._received_bytes - self._released_bytes

    @property
    def reading_paused(self) -> bool:
        """True while the collector holds as much as it may: it reads no more
        from the broker (which keeps the rest) until writes free some room."""
        config = self.config
        return (
            self.in_flight >= config.max_held_messages or self.held_bytes >= config.max_held_bytes
        )

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

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: Any, codes: Any, _p: Any) -> None:
        # Connected means subscribed: a message published before the SUBACK
        # could miss the subscription.
        refused = [str(code) for code in codes if code.is_failure]
        if refused:
            log.error("broker %s refused the subscriptions: %s", self._address, refused)
            return
        log.info("collector connected to %s, subscribed to %s", self._address, self.subscriptions)
        self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self._connected.clear()
        if rc.is_failure and not self._stop.is_set():
            log.warning("collector lost its MQTT connection (%s); reconnecting", rc)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._on_delivery(msg)

    def _on_delivery(self, msg: Received) -> None:
        self._received += 1
        self._received_bytes += len(msg.payload)
        self._inbox.append(msg)
        if not self._arrived.is_set():
            self._arrived.set()

    # ---- lifecycle ----------------------------------------------------------
    #
    # The owner (`CloudService`) runs `run_decoding` and `run_writing` in a
    # thread each, between `connect` and `disconnect`, and sets `stop`.

    def connect(self) -> None:
        """Connect in the background (paho's network thread); reconnects on its own."""
        self._client.connect_async(
            self._address.host, self._address.port, keepalive=self.config.mqtt.keepalive_s
        )
        self._client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    def disconnect(self) -> None:
        """Leave the broker, after both loops ended; unacknowledged messages stay with it."""
        self._client.disconnect()
        self._client.loop_stop()
        if self._registry_catalog is not None:
            self._registry_catalog.close()

    # ---- the decode and write loops -----------------------------------------

    def run_decoding(self) -> None:
        """The decode loop: batches from the inbox to the write loop, until `stop`."""
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
                self._release(msgs)
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
        return msgs

    def _release(self, msgs: list[Received]) -> None:
        """Forget messages acknowledged (or left to the broker to send again)."""
        size = sum(len(m.payload) for m in msgs)
        with self._release_lock:
            self._released += len(msgs)
            self._released_bytes += size

    def run_writing(self) -> None:
        """The write loop: store and acknowledge what has been decoded, until `stop`."""
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
                self._commit_retrying(decoded)
            finally:
                self._release(decoded.msgs)

    def _commit_retrying(self, decoded: _Decoded) -> None:
        """Commit; after an unexpected failure, commit the same batch again.

        The messages stay held (counted in `in_flight`, unacknowledged) while
        it fails: dropping them from memory without an acknowledgement would
        strand them at the broker until the next reconnect.
        """
        delay = _RETRY_FIRST_S
        while True:
            try:
                self._commit(decoded)
                return
            except Exception:
                self.stats.commit_failures += 1
                log.exception(
                    "collector batch of %d messages failed; retrying in %.1fs",
                    len(decoded.msgs),
                    delay,
                )
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, _RETRY_MAX_S)

    def _decode_batch(self, msgs: list[Received]) -> _Decoded | None:
        """Decode a batch; rejected messages are dead-lettered here. None if stopped."""
        sites = self._registrations(msgs)
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
                    limits=self.config.limits,
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
        """Write, acknowledge every message of the batch (rejected ones too), tell listeners."""
        accepted = decoded.accepted
        if accepted and not self._write(accepted):
            return  # stopping: leave everything unacknowledged for redelivery
        self._client.ack_all(decoded.msgs)
        if not accepted or not self.commit_listeners:
            return
        committed = Committed(
            keys=frozenset(key for _, i in accepted for key in i.touched),
            events=tuple(i.events_batch for _, i in accepted if i.events_batch is not None),
        )
        for listener in self.commit_listeners:
            try:
                listener(committed)
            except Exception:
                # What was stored is stored and acknowledged: a listener's bug
                # must not stop ingest.
                log.exception("commit listener failed")

    def _registrations(self, msgs: list[Received]) -> dict[str, Registration | None] | None:
        """The catalog's registration of each device in the batch ({} without a registry).

        Asked before anything is decoded, so a catalog outage only delays the
        batch (retried like a store outage); None if stopped meanwhile.
        """
        if self.registry is None:
            return {}
        devices = {parts[3] for parts in (m.topic.split("/") for m in msgs) if len(parts) == 5}
        delay = _RETRY_FIRST_S
        while True:
            try:
                return self.registry.registrations_of(devices)
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
        """Write all points, retrying while the store is unavailable; False if stopped first.

        If the store refuses some data, each message is written alone and those
        it refuses are dead-lettered (`store_rejected`).
        """
        inbounds = [i for _, i in accepted]
        try:
            if not self._store_retrying(inbounds):
                return False
        except StoreRejected:
            return self._write_one_by_one(accepted)
        for inbound in inbounds:
            self._count_written(inbound)
        return True

    def _write_one_by_one(self, accepted: list[tuple[Received, Inbound]]) -> bool:
        """Each message alone; an outage meanwhile is waited out like any other."""
        for msg, inbound in accepted:
            try:
                if not self._store_retrying([inbound]):
                    return False
                self._count_written(inbound)
            except StoreRejected as exc:
                self._reject(msg, DeadLetterReason.STORE_REJECTED, str(exc))
        return True

    def _store_retrying(self, inbounds: list[Inbound]) -> bool:
        """One write of `inbounds`, retried with backoff while the store is unavailable
        (recreating a missing database where allowed). False if stopped first;
        `StoreRejected` when the store refuses the data itself."""
        delay = _RETRY_FIRST_S
        while True:
            try:
                started = time.monotonic()
                self._store(inbounds)
            except StoreUnavailable as exc:
                self._store_failed(exc, delay)
            else:
                self.stats.write_seconds += time.monotonic() - started
                self.stats.writes += 1
                if self.stats.store_error is not None:
                    log.info("store available again")
                    self.stats.store_error = None
                return True
            if self._stop.wait(delay):
                return False
            delay = min(delay * 2, _RETRY_MAX_S)

    def _store_failed(self, exc: StoreUnavailable, delay: float) -> None:
        self.stats.write_retries += 1
        self.stats.store_failures[exc.reason] += 1
        self.stats.store_error = f"{exc.reason}: {exc}"[:500]
        log.warning("store unavailable (%s); retrying in %.1fs", exc, delay)
        if exc.reason != "database_missing" or self._creator is None:
            return
        try:
            self._creator.ensure_database()
        except StoreError as create_exc:
            log.warning("could not create the missing database (%s)", create_exc)
            return
        self.stats.databases_created += 1
        log.warning("the store's database was missing: created it again")

    def _count_written(self, inbound: Inbound) -> None:
        self.stats.readings_written += inbound.readings
        self.stats.events_written += inbound.events
        self.stats.statuses_written += inbound.statuses

    def _reject(self, msg: Received, reason: DeadLetterReason, detail: str) -> None:
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

    def publish_alert(self, alert: Alert) -> None:
        """Publish an alert on its site's alerts topic (QoS 1); paho queues it while offline."""
        self._client.publish(alerts_topic(alert.site), encode(alert), qos=1)
