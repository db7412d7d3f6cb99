"""What every device worker does: open with capped backoff, poll, take errors, report health.

One thread per device, so a failing device never stalls the others. A worker
puts what it learns (absolute `Reading`s and `Event`s) on the agent's
outbound queue. How a poll's errors are taken (counted, logged, the device's
health, reopening) is the same for every device and written once here, in
`DeviceWorker._poll`; a subclass says how to read its device and what to do
with an answer or a fault.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Generic, TypeVar

from edge_agent.config import ReaderConfig, ScaleConfig
from edge_agent.drivers.base import TagDriver, WeightDriver
from edge_agent.errors import DeviceUnavailable, DriverError, FrameError
from vmi.clock import Clock
from vmi.wire import DriverHealth, Event, EventKind, Reading

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0

Outbound = queue.Queue[Reading | Event]

#: What one poll of a device returns (a weight, the tags seen).
Answer = TypeVar("Answer")


@dataclass
class DeviceStats:
    samples: int = 0
    unstable: int = 0
    bad_frames: int = 0
    faults: int = 0
    reopens: int = 0
    unknown_tags: int = 0
    health: DriverHealth = DriverHealth.STARTING


class DeviceWorker(Generic[Answer]):
    """Opens one device, reopens it after failures, and polls it every
    `poll_interval_s` of its binding until stopped.

    A subclass implements `_read()` (one poll), `_use()` (an answer) and
    `_fault()` (a device fault); `_before_read()` runs before every poll.
    """

    def __init__(
        self,
        binding: ScaleConfig | ReaderConfig,
        driver: WeightDriver | TagDriver,
        out: Outbound,
        *,
        clock: Clock,
        stats: DeviceStats,
    ) -> None:
        self.driver = driver
        self.location = binding.location
        self._out = out
        self._clock = clock
        self.stats = stats
        self._poll_interval_s = binding.poll_interval_s

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
        """Poll the open device until `stop`, or until it stops answering.

        A bad frame (`FrameError`) is counted in `bad_frames` and skipped.
        `DeviceUnavailable` marks the device unavailable and returns, so
        `run()` reopens it with backoff. Any other `DriverError` is a fault:
        counted in `faults` and handed to `_fault()`. An answer (not None)
        marks the device OK and goes to `_use()`. Every poll, whatever came
        of it, is followed by the interval, or a device that only sends
        unusable frames would be polled as fast as the port allows.
        """
        while not stop.is_set():
            self._before_read()
            try:
                answer = self._read()
            except FrameError as exc:
                self.stats.bad_frames += 1
                log.debug("%s: bad frame skipped: %s", self.driver.name, exc)
            except DeviceUnavailable as exc:
                self._health(DriverHealth.UNAVAILABLE, str(exc))
                log.warning("%s stopped answering: %s", self.driver.name, exc)
                return
            except DriverError as exc:
                self.stats.faults += 1
                self._fault(exc)
            else:
                if answer is not None:
                    self._health(DriverHealth.OK, "answering")
                    self._use(answer)
            stop.wait(self._poll_interval_s)

    def _before_read(self) -> None:
        """Runs before every poll, in this worker's thread; does nothing by default."""

    def _read(self) -> Answer | None:
        """Poll the device once: its answer, or None when it answered but has
        nothing to use now. Raises `DriverError`."""
        raise NotImplementedError

    def _use(self, answer: Answer) -> None:
        """Act on an answer."""
        raise NotImplementedError

    def _fault(self, exc: DriverError) -> None:
        """Act on a device fault (already counted): out of range, a device
        showing no weight, a refused command."""
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
