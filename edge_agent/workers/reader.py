"""The reader worker: polls one RFID reader and publishes units per SKU present."""

from __future__ import annotations

import logging
import threading
import time

from edge_agent.config import ReaderConfig
from edge_agent.drivers.base import TagDriver
from edge_agent.errors import DeviceUnavailable, DriverError, FrameError
from edge_agent.rfid.presence import TagPresence, TagResolver
from edge_agent.stock import LevelChange
from edge_agent.workers.base import DeviceStats, DeviceWorker, Outbound
from vmi.clock import Clock
from vmi.wire import DriverHealth, EventKind, Reading, Source

log = logging.getLogger(__name__)


class ReaderWorker(DeviceWorker):
    """Counts tagged units per SKU at one location; a SKU whose tags left reads 0."""

    def __init__(
        self,
        binding: ReaderConfig,
        driver: TagDriver,
        out: Outbound,
        *,
        clock: Clock,
        heartbeat_s: float,
        stats: DeviceStats,
    ) -> None:
        super().__init__(driver, binding.location, out, clock=clock, stats=stats)
        self.driver: TagDriver = driver
        self.binding = binding
        self._heartbeat_s = heartbeat_s
        self.presence = TagPresence(
            window_s=binding.presence_window_s, min_sightings=binding.min_sightings
        )
        self._resolver = TagResolver(tag_map=dict(binding.tag_map), gtin_map=dict(binding.gtin_map))
        self._changes = {sku: LevelChange(heartbeat_s=heartbeat_s) for sku in binding.skus}
        self._unknown: set[str] = set()
        self._fault: str | None = None

    def _poll(self, stop: threading.Event) -> None:
        interval = self.binding.poll_interval_s
        while not stop.is_set():
            try:
                tags = self.driver.read_tags()
            except FrameError as exc:
                self.stats.bad_frames += 1
                log.debug("%s: bad frame skipped: %s", self.driver.name, exc)
            except DeviceUnavailable as exc:
                self._health(DriverHealth.UNAVAILABLE, str(exc))
                log.warning("%s stopped answering: %s", self.driver.name, exc)
                return
            except DriverError as exc:
                self.stats.faults += 1
                if str(exc) != self._fault:  # once per episode, not every poll
                    self._fault = str(exc)
                    self._event(EventKind.FAULT, detail=str(exc))
            else:
                self._health(DriverHealth.OK, "answering")
                if self._fault is not None:
                    self._event(EventKind.FAULT, detail=f"cleared: {self._fault}")
                    self._fault = None
                now = time.monotonic()
                self.stats.samples += len(tags)
                for tag in tags:
                    self.presence.seen(tag.tag_id, now)
                self._count(now)
            stop.wait(interval)

    def _count(self, now: float) -> None:
        counts, unknown = self.presence.counts(now, self._resolver)
        for tag in sorted(unknown - self._unknown):
            self.stats.unknown_tags += 1
            log.info("%s: tag %s maps to no SKU (add it to tag_map)", self.driver.name, tag)
        self._unknown |= unknown
        for sku in counts.keys() - self._changes.keys():
            self._changes[sku] = LevelChange(heartbeat_s=self._heartbeat_s)
        for sku, change in self._changes.items():
            quantity = counts.get(sku, 0)
            if change.should_publish(quantity, now):
                self._out.put(
                    Reading(
                        time=self._clock.now(),
                        location=self.location,
                        sku=sku,
                        quantity=quantity,
                        source=Source.RFID,
                    )
                )
