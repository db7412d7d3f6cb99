"""The edge agent: runs a worker per device and publishes what they learn.

Workers (`edge_agent.workers`) queue absolute levels and events; the main loop
batches them into readings and events messages, each with a persistent
per-device sequence number.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from pydantic import ValidationError

from edge_agent.calibration import CalibrationStore
from edge_agent.commands import CommandLog, Refusal, refusal
from edge_agent.config import EdgeConfig, config_hash
from edge_agent.drivers.registry import create_reader, create_scale
from edge_agent.mismatch import MismatchDetector
from edge_agent.outbox import MemoryOutbox, Outbox, SqliteOutbox
from edge_agent.publisher import MqttPublisher
from edge_agent.sequence import SequenceCounter
from edge_agent.workers import DeviceStats, Outbound, ReaderWorker, ScaleWorker
from vmi import __version__
from vmi.clock import Clock, SystemClock
from vmi.wire import DeviceCommand, Event, EventKind, EventsBatch, Reading, ReadingsBatch

log = logging.getLogger(__name__)


@dataclass
class AgentStats:
    readings_published: int = 0
    events_published: int = 0
    messages_published: int = 0
    commands: int = 0
    commands_rejected: int = 0  # malformed, or for no scale of this agent
    commands_ignored: Counter[str] = field(default_factory=Counter)  # by `Refusal`
    devices: dict[str, DeviceStats] = field(default_factory=dict)


class EdgeAgent:
    """Runs every configured device and publishes stock levels and events."""

    def __init__(self, config: EdgeConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.stats = AgentStats()
        self._queue: Outbound = queue.Queue()
        self._readings_seq = SequenceCounter(config.state_dir / f"{config.device}.seq")
        self._events_seq = SequenceCounter(config.state_dir / f"{config.device}.events.seq")
        self._calibrations = CalibrationStore(config.state_dir / "calibration.json")
        self._commands = CommandLog(config.state_dir / "commands.json")
        limits = config.outbox.limits
        self.outbox: Outbox = (
            SqliteOutbox(config.state_dir / f"{config.device}.outbox.db", limits)
            if config.outbox.kind == "disk"
            else MemoryOutbox(limits)
        )
        self._mismatch = MismatchDetector(grace_s=config.mismatch_grace_s)
        heartbeat_s = config.publish.heartbeat_s
        self._scales: list[ScaleWorker] = []
        for scale in config.scales:
            driver = create_scale(scale.driver)
            self._scales.append(
                ScaleWorker(
                    scale,
                    driver,
                    self._queue,
                    clock=self.clock,
                    heartbeat_s=heartbeat_s,
                    stats=self.stats.devices.setdefault(driver.name, DeviceStats()),
                    calibrations=self._calibrations,
                )
            )
        self._readers: list[ReaderWorker] = []
        for reader in config.readers:
            tags = create_reader(reader.driver)
            self._readers.append(
                ReaderWorker(
                    reader,
                    tags,
                    self._queue,
                    clock=self.clock,
                    heartbeat_s=heartbeat_s,
                    stats=self.stats.devices.setdefault(tags.name, DeviceStats()),
                )
            )
        self.publisher = MqttPublisher(
            connection=config.mqtt,
            client_id=config.client_id,
            site=config.site,
            device=config.device,
            clock=self.clock,
            outbox=self.outbox,
            max_in_flight=config.outbox.max_in_flight,
            agent_version=__version__,
            config_hash=config_hash(config),
            drivers=self._driver_health(),
            on_command=self._on_command,
        )

    def _on_command(self, payload: bytes, retained: bool) -> None:
        """A command from the cloud (MQTT thread): check it, hand it to its scales."""
        if retained:
            self._ignore_command(Refusal.RETAINED, "a retained message")
            return
        try:
            command = DeviceCommand.model_validate_json(payload)
        except ValidationError as exc:
            self._reject_command(f"malformed command: {exc.errors()[0]['msg']}")
            return
        now = self.clock.now()
        why = refusal(command, now=now, seen=self._commands.seen)
        if why is not None:
            self._ignore_command(why, f"command {command.id}")
            if why is not Refusal.REPEATED:  # a redelivery is normal; the rest is news
                self._queue.put(
                    Event(
                        time=now,
                        kind=EventKind.FAULT,
                        location=command.location,
                        detail=f"command {command.id} ignored: {why.value}",
                    )
                )
            return
        targets = [
            w
            for w in self._scales
            if w.binding.location == command.location and command.sku in (None, w.binding.sku)
        ]
        if not targets:
            self._reject_command(f"no scale at location {command.location}")
            return
        self.stats.commands += 1
        self._commands.record(command, now)
        for worker in targets:
            worker.submit(command)

    def _ignore_command(self, why: Refusal, what: str) -> None:
        self.stats.commands_ignored[why.value] += 1
        log.warning("command ignored (%s): %s", why.value, what)

    def _reject_command(self, why: str) -> None:
        self.stats.commands_rejected += 1
        log.warning("command rejected: %s", why)
        self._queue.put(
            Event(time=self.clock.now(), kind=EventKind.FAULT, detail=f"command rejected: {why}")
        )

    def _driver_health(self) -> dict[str, str]:
        return {name: s.health for name, s in self.stats.devices.items()}

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set, then publish `offline` and close everything."""
        self.publisher.start()
        workers: list[ScaleWorker | ReaderWorker] = [*self._scales, *self._readers]
        threads = [
            threading.Thread(target=w.run, args=(stop,), name=f"dev-{w.driver.name}", daemon=True)
            for w in workers
        ]
        for t in threads:
            t.start()
        try:
            next_status = time.monotonic() + self.config.publish.status_interval_s
            while not stop.is_set():
                self._publish_next(stop)
                self.publisher.update_drivers(self._driver_health())
                self._check_mismatches()
                if time.monotonic() >= next_status:
                    next_status += self.config.publish.status_interval_s
                    self.publisher.publish_status()
        finally:
            for t in threads:
                t.join(timeout=10)
            self._drain()
            self.publisher.close()
            self.outbox.close()

    def _publish_next(self, stop: threading.Event) -> None:
        try:
            first = self._queue.get(timeout=0.5)
        except queue.Empty:
            return
        batch: list[Reading | Event] = [first]
        deadline = time.monotonic() + self.config.publish.linger_s
        while len(batch) < self.config.publish.max_batch and not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        self._send(batch)

    def _check_mismatches(self) -> None:
        for m in self._mismatch.check(time.monotonic()):
            self._queue.put(
                Event(
                    time=self.clock.now(),
                    kind=EventKind.MISMATCH,
                    location=m.location,
                    sku=m.sku,
                    quantity=m.by_weight - m.by_rfid,
                    detail=m.detail,
                )
            )

    def _drain(self) -> None:
        """Publish what the devices queued before they stopped."""
        pending: list[Reading | Event] = []
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for i in range(0, len(pending), self.config.publish.max_batch):
            self._send(pending[i : i + self.config.publish.max_batch])

    def _send(self, items: list[Reading | Event]) -> None:
        readings = [i for i in items if isinstance(i, Reading)]
        events = [i for i in items if isinstance(i, Event)]
        site, device = self.config.site, self.config.device
        for r in readings:
            self._mismatch.update(r.location, r.sku, r.source.value, r.quantity)
        if readings:
            self.publisher.publish(
                ReadingsBatch(
                    site=site,
                    device=device,
                    seq=self._readings_seq.next(),
                    sent_at=self.clock.now(),
                    readings=readings,
                )
            )
            self.stats.messages_published += 1
            self.stats.readings_published += len(readings)
        if events:
            self.publisher.publish_events(
                EventsBatch(
                    site=site,
                    device=device,
                    seq=self._events_seq.next(),
                    sent_at=self.clock.now(),
                    events=events,
                )
            )
            self.stats.messages_published += 1
            self.stats.events_published += len(events)
