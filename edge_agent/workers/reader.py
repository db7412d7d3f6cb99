"""The reader worker: polls one RFID reader and publishes units per SKU present."""

from __future__ import annotations

import logging
import time

from edge_agent.config import ReaderConfig
from edge_agent.drivers.base import TagDriver, TagRead
from edge_agent.errors import DriverError
from edge_agent.rfid.presence import TagPresence, TagResolver
from edge_agent.stock import LevelChange
from edge_agent.workers.base import DeviceStats, DeviceWorker, Outbound
from vmi.clock import Clock
from vmi.wire import EventKind, Reading, Source

log = logging.getLogger(__name__)


class ReaderWorker(DeviceWorker[list[TagRead]]):
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
        super().__init__(binding, driver, out, clock=clock, stats=stats)
        self.driver: TagDriver = driver
        self.binding = binding
        self._heartbeat_s = heartbeat_s
        self.presence = TagPresence(
            window_s=binding.presence_window_s, min_sightings=binding.min_sightings
        )
        self._resolver = TagResolver(tag_map=dict(binding.tag_map), gtin_map=dict(binding.gtin_map))
        self._changes = {sku: LevelChange(heartbeat_s=heartbeat_s) for sku in binding.skus}
        self._unknown: set[str] = set()
        self._fault_shown: str | None = None  # the fault reported, until a poll works

    def _read(self) -> list[TagRead]:
        return self.driver.read_tags()

    def _use(self, answer: list[TagRead]) -> None:
        if self._fault_shown is not None:
            self._event(EventKind.FAULT, detail=f"cleared: {self._fault_shown}")
            self._fault_shown = None
        now = time.monotonic()
        self.stats.samples += len(answer)
        for tag in answer:
            self.presence.seen(tag.tag_id, now)
        self._count(now)

    def _fault(self, exc: DriverError) -> None:
        if str(exc) != self._fault_shown:  # once per episode, not every poll
            self._fault_shown = str(exc)
            self._event(EventKind.FAULT, detail=str(exc))

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
