"""The scale worker: polls one scale, tracks its shelf, applies tare/calibrate."""

from __future__ import annotations

import logging
import queue
import time

from edge_agent.calibration import CalibrationStore, ShelfCalibration
from edge_agent.config import ScaleConfig
from edge_agent.drivers.base import WeightDriver, WeightSample
from edge_agent.errors import DriverError, WeightOutOfRange
from edge_agent.shelf import ShelfEvent, ShelfLevel, ShelfOutput, ShelfTracker
from edge_agent.stock import LevelChange
from edge_agent.workers.base import DeviceStats, DeviceWorker, Outbound
from vmi.clock import Clock
from vmi.wire import DeviceCommand, EventKind, Reading, Source

log = logging.getLogger(__name__)


class ScaleWorker(DeviceWorker[WeightSample]):
    """Polls one scale and tracks its shelf."""

    def __init__(
        self,
        binding: ScaleConfig,
        driver: WeightDriver,
        out: Outbound,
        *,
        clock: Clock,
        heartbeat_s: float,
        stats: DeviceStats,
        calibrations: CalibrationStore | None = None,
    ) -> None:
        super().__init__(binding, driver, out, clock=clock, stats=stats)
        self.driver: WeightDriver = driver
        self.binding = binding
        self._change = LevelChange(heartbeat_s=heartbeat_s)
        self._calibrations = calibrations
        self._commands: queue.Queue[DeviceCommand] = queue.Queue()
        self.tracker = ShelfTracker(binding.shelf_settings())
        saved = calibrations.get(binding.location) if calibrations else None
        if saved is not None:
            # A tare or calibration done at the site outranks the config file.
            self.tracker.recalibrate(tare_g=saved.tare_g, span=saved.span)

    def submit(self, command: DeviceCommand) -> None:
        """Queue a tare or calibrate command; applied between polls, in this worker's thread."""
        self._commands.put(command)

    def _before_read(self) -> None:
        while not self._commands.empty():
            self._apply(self._commands.get_nowait())

    def _read(self) -> WeightSample | None:
        return self.driver.read_weight()

    def _use(self, answer: WeightSample) -> None:
        self.stats.samples += 1
        self.stats.unstable += not answer.stable
        self._emit(self.tracker.sample(answer.grams, stable=answer.stable))

    def _fault(self, exc: DriverError) -> None:
        if isinstance(exc, WeightOutOfRange):
            self._emit(self.tracker.fault(exc.direction))
            return
        log.warning("%s fault: %s", self.driver.name, exc)
        self._emit(self.tracker.fault(str(exc)))

    def _apply(self, command: DeviceCommand) -> None:
        settled = self.tracker.settled_g
        s = self.tracker.settings
        if settled is None:
            self._refuse(command, "the shelf has not settled; try again when nothing moves")
            return
        if command.command == "tare":
            tare_g, span = settled, s.span
            event = ShelfEvent(
                EventKind.TARE, round(tare_g, 3), f"tare {tare_g:.1f} g (was {s.tare_g:.1f} g)"
            )
        else:
            assert command.units is not None  # the wire model requires it for calibrate
            net_g = settled - s.tare_g
            if net_g <= 0:
                self._refuse(command, "the shelf weighs no more than its tare")
                return
            tare_g, span = s.tare_g, command.units * s.item_weight_g / net_g
            event = ShelfEvent(
                EventKind.CALIBRATION,
                round(span, 6),
                f"span {span:.4f} for {command.units} units (was {s.span:.4f})",
            )
        if self._calibrations is not None:
            at = self._clock.now().isoformat()
            self._calibrations.set(self.binding.location, ShelfCalibration(tare_g, span, at))
        self.tracker.recalibrate(tare_g=tare_g, span=span)
        self._emit([event])

    def _refuse(self, command: DeviceCommand, why: str) -> None:
        self._emit([ShelfEvent(EventKind.FAULT, detail=f"{command.command} refused: {why}")])

    def _emit(self, outputs: list[ShelfOutput]) -> None:
        b = self.binding
        for o in outputs:
            if isinstance(o, ShelfLevel):
                if self._change.should_publish(o.quantity, time.monotonic()):
                    self._out.put(
                        Reading(
                            time=self._clock.now(),
                            location=b.location,
                            sku=b.sku,
                            quantity=o.quantity,
                            source=Source.SCALE,
                            raw_weight_g=o.gross_g,
                            stable=True,
                        )
                    )
            elif isinstance(o, ShelfEvent):
                self._event(o.kind, sku=b.sku, quantity=o.quantity, detail=o.detail)
