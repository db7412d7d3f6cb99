"""What every device worker does: open with capped backoff, poll, report health.

One thread per device, so a failing device never stalls the others. A worker
puts what it learns (absolute `Reading`s and `Event`s) on the agent's
outbound queue.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

from edge_agent.drivers.base import TagDriver, WeightDriver
from edge_agent.errors import DriverError
from vmi.clock import Clock
from vmi.wire import DriverHealth, Event, EventKind, Reading

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0

Outbound = queue.Queue[Reading | Event]


@dataclass
class DeviceStats:
    samples: int = 0
    unstable: int = 0
    bad_frames: int = 0
    faults: int = 0
    reopens: int = 0
    unknown_tags: int = 0
    health: DriverHealth = DriverHealth.STARTING


class DeviceWorker:
    """Opens one device, reopens it after failures, and polls it until stopped."""

    def __init__(
        self,
        driver: WeightDriver | TagDriver,
        location: str,
        out: Outbound,
        *,
        clock: Clock,
        stats: DeviceStats,
    ) -> None:
        self.driver = driver
        self.location = location
        self._out = out
        self._clock = clock
        self.stats = stats

    def run(self, stop: threading.Event) -> None:
        backoff = BACKOFF_FIRST_S
        while not stop.is_set():
            try:
                self.driver.open()
            except DriverError as exc:
                self._health(DriverHealth.UNAVAILABLE, str(exc))
                log.warning("%s unavailable: %s; retry in %.1fs", self.driver.name, exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            backoff = BACKOFF_FIRST_S
            self._health(DriverHealth.OK, "opened")
            self._poll(stop)
            self.driver.close()
            self.stats.reopens += 1
        self.driver.close()

    def _poll(self, stop: threading.Event) -> None:
        """Poll the open device until `stop` or until it becomes unavailable."""
        raise NotImplementedError

    def _event(
        self,
        kind: EventKind,
        *,
        sku: str | None = None,
        quantity: float | None = None,
        detail: str = "",
    ) -> None:
        self._out.put(
            Event(
                time=self._clock.now(),
                kind=kind,
                location=self.location,
                sku=sku,
                quantity=quantity,
                driver=self.driver.name,
                detail=detail[:500],
            )
        )

    def _health(self, health: DriverHealth, detail: str) -> None:
        if health == self.stats.health:
            return
        previous, self.stats.health = self.stats.health, health
        if previous == DriverHealth.STARTING and health == DriverHealth.OK:
            return  # a device that simply came up is not news
        self._event(EventKind.DRIVER, detail=f"{health}: {detail}")
