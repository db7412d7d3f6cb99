"""The edge agent: polls scales, turns weight into stock, publishes levels.

One thread per scale polls its driver (so a failing scale never stalls the
others) and queues absolute levels; the main loop batches them into readings
messages with a persistent per-device sequence number.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from edge_agent.config import EdgeConfig, ScaleConfig
from edge_agent.drivers.base import WeightDriver
from edge_agent.drivers.registry import create_driver
from edge_agent.errors import DeviceUnavailable, DriverError, FrameError
from edge_agent.publisher import MqttPublisher
from edge_agent.sequence import SequenceCounter
from edge_agent.stock import LevelChange, units_from_weight
from vmi import __version__
from vmi.clock import Clock, SystemClock
from vmi.urls import parse_mqtt_url
from vmi.wire import Reading, ReadingsBatch, Source

log = logging.getLogger(__name__)

_BACKOFF_FIRST_S = 0.5
_BACKOFF_MAX_S = 30.0


@dataclass
class ScaleStats:
    samples: int = 0
    unstable: int = 0
    bad_frames: int = 0
    faults: int = 0
    reopens: int = 0
    health: str = "starting"


@dataclass
class AgentStats:
    readings_published: int = 0
    messages_published: int = 0
    scales: dict[str, ScaleStats] = field(default_factory=dict)


class ScaleWorker:
    """Polls one scale in its own thread; reopens it with capped backoff."""

    def __init__(
        self,
        binding: ScaleConfig,
        driver: WeightDriver,
        out: queue.Queue[Reading],
        *,
        clock: Clock,
        heartbeat_s: float,
        stats: ScaleStats,
    ) -> None:
        self.binding = binding
        self.driver = driver
        self._out = out
        self._clock = clock
        self._change = LevelChange(heartbeat_s=heartbeat_s)
        self.stats = stats

    def run(self, stop: threading.Event) -> None:
        backoff = _BACKOFF_FIRST_S
        while not stop.is_set():
            try:
                self.driver.open()
            except DriverError as exc:
                self.stats.health = "unavailable"
                log.warning(
                    "scale %s unavailable: %s; retry in %.1fs", self.driver.name, exc, backoff
                )
                stop.wait(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX_S)
                continue
            backoff = _BACKOFF_FIRST_S
            self.stats.health = "ok"
            self._poll(stop)
            self.driver.close()
            self.stats.reopens += 1
        self.driver.close()

    def _poll(self, stop: threading.Event) -> None:
        interval = self.binding.poll_interval_s
        while not stop.is_set():
            try:
                sample = self.driver.read_weight()
            except FrameError as exc:
                self.stats.bad_frames += 1
                log.debug("scale %s: bad frame skipped: %s", self.driver.name, exc)
                continue
            except DeviceUnavailable as exc:
                self.stats.health = "unavailable"
                log.warning("scale %s stopped answering: %s", self.driver.name, exc)
                return
            except DriverError as exc:
                self.stats.faults += 1
                self.stats.health = "fault"
                log.warning("scale %s fault: %s", self.driver.name, exc)
                stop.wait(interval)
                continue
            if sample is not None:
                self.stats.health = "ok"
                self._take(sample.grams, sample.stable)
            stop.wait(interval)

    def _take(self, grams: float, stable: bool) -> None:
        self.stats.samples += 1
        if not stable:
            # Only a settled weight says how many units are on the shelf.
            self.stats.unstable += 1
            return
        b = self.binding
        count = units_from_weight(grams, tare_g=b.tare_g, item_weight_g=b.item_weight_g)
        if self._change.should_publish(count.quantity, time.monotonic()):
            self._out.put(
                Reading(
                    time=self._clock.now(),
                    location=b.location,
                    sku=b.sku,
                    quantity=count.quantity,
                    source=Source.SCALE,
                    raw_weight_g=round(grams, 3),
                    stable=True,
                )
            )


class EdgeAgent:
    """Runs every configured scale and publishes their stock levels."""

    def __init__(self, config: EdgeConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.stats = AgentStats()
        self._queue: queue.Queue[Reading] = queue.Queue()
        self._sequence = SequenceCounter(config.state_dir / f"{config.device}.seq")
        self._workers: list[ScaleWorker] = []
        for binding in config.scales:
            driver = create_driver(binding.driver)
            stats = self.stats.scales.setdefault(driver.name, ScaleStats())
            self._workers.append(
                ScaleWorker(
                    binding,
                    driver,
                    self._queue,
                    clock=self.clock,
                    heartbeat_s=config.publish.heartbeat_s,
                    stats=stats,
                )
            )
        self.publisher = MqttPublisher(
            address=parse_mqtt_url(config.mqtt.url),
            client_id=config.client_id,
            site=config.site,
            device=config.device,
            clock=self.clock,
            agent_version=__version__,
            drivers=self._driver_health(),
            keepalive_s=config.mqtt.keepalive_s,
        )

    def _driver_health(self) -> dict[str, str]:
        return {name: s.health for name, s in self.stats.scales.items()}

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set, then publish `offline` and close everything."""
        self.publisher.start()
        threads = [
            threading.Thread(target=w.run, args=(stop,), name=f"scale-{w.driver.name}", daemon=True)
            for w in self._workers
        ]
        for t in threads:
            t.start()
        try:
            while not stop.is_set():
                self._publish_next(stop)
                self.publisher.update_drivers(self._driver_health())
        finally:
            for t in threads:
                t.join(timeout=10)
            self._drain()
            self.publisher.close()

    def _publish_next(self, stop: threading.Event) -> None:
        try:
            first = self._queue.get(timeout=0.5)
        except queue.Empty:
            return
        batch = [first]
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

    def _drain(self) -> None:
        """Publish what the scales queued before they stopped."""
        pending: list[Reading] = []
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for i in range(0, len(pending), self.config.publish.max_batch):
            self._send(pending[i : i + self.config.publish.max_batch])

    def _send(self, readings: list[Reading]) -> None:
        batch = ReadingsBatch(
            site=self.config.site,
            device=self.config.device,
            seq=self._sequence.next(),
            sent_at=self.clock.now(),
            readings=readings,
        )
        self.publisher.publish(batch)
        self.stats.messages_published += 1
        self.stats.readings_published += len(readings)
