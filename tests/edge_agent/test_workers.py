"""Device workers against emulated devices on real ptys."""

from __future__ import annotations

import queue
import threading

import pytest

from edge_agent.config import ScaleConfig
from edge_agent.drivers.base import WeightSample
from edge_agent.drivers.registry import create_scale
from edge_agent.errors import (
    DeviceFault,
    DeviceUnavailable,
    DriverError,
    FrameError,
    WeightOutOfRange,
)
from edge_agent.workers import DeviceStats, DeviceWorker, Outbound, ScaleWorker
from firmware_sim.mtsics_scale import MtSicsEmulator
from vmi.clock import SystemClock
from vmi.wire import DriverHealth, Event, EventKind

pytestmark = pytest.mark.timeout(30)


def test_a_device_sending_only_garbage_is_polled_at_the_interval_not_flat_out() -> None:
    with MtSicsEmulator(garbage_probability=1.0, seed=3) as emu:
        binding = ScaleConfig.model_validate(
            {
                "type": "mtsics",
                "port": emu.port,
                "location": "A",
                "sku": "X",
                "item_weight_g": 1.0,
                "poll_interval_s": 0.1,
                "timeout_s": 0.5,
            }
        )
        out: Outbound = queue.Queue()
        stats = DeviceStats()
        worker = ScaleWorker(
            binding,
            create_scale(binding.driver),
            out,
            clock=SystemClock(),
            heartbeat_s=60,
            stats=stats,
        )
        stop = threading.Event()
        threading.Timer(1.0, stop.set).start()
        worker.run(stop)
        polls = emu.commands_received
    assert stats.bad_frames == polls > 0
    assert polls <= 15, f"{polls} polls in one second at a 0.1 s interval"
    assert out.empty(), "garbage never becomes a reading"


# -- the poll error handling every worker shares (DeviceWorker._poll) ------------

Step = WeightSample | None | DriverError


class ScriptedScale:
    """A stand-in scale that answers each poll as scripted and sets `stop`
    with its last step. No device: the worker's own logic is under test, so
    it has only what a worker calls (no tare or zero)."""

    name = "scripted"

    def __init__(self, steps: list[Step], stop: threading.Event) -> None:
        self.steps = steps
        self.stop = stop
        self.opens = 0
        self.closes = 0

    def open(self) -> None:
        self.opens += 1

    def read_weight(self) -> WeightSample | None:
        if len(self.steps) == 1:
            self.stop.set()  # the last step is the last poll
        step = self.steps.pop(0)
        if isinstance(step, DriverError):
            raise step
        return step

    def close(self) -> None:
        self.closes += 1


class Recording(DeviceWorker[WeightSample]):
    """A worker that records what the shared poll hands it."""

    def __init__(self, driver: ScriptedScale, out: Outbound) -> None:
        binding = ScaleConfig.model_validate(
            {
                "type": "mtsics",
                "port": "scripted",
                "location": "A",
                "sku": "X",
                "item_weight_g": 1.0,
                "poll_interval_s": 0.001,
            }
        )
        super().__init__(binding, driver, out, clock=SystemClock(), stats=DeviceStats())
        self.used: list[WeightSample] = []
        self.faults: list[DriverError] = []
        self.before = 0

    def _before_read(self) -> None:
        self.before += 1

    def _read(self) -> WeightSample | None:
        assert isinstance(self.driver, ScriptedScale)
        return self.driver.read_weight()

    def _use(self, answer: WeightSample) -> None:
        self.used.append(answer)

    def _fault(self, exc: DriverError) -> None:
        self.faults.append(exc)


def run_script(steps: list[Step]) -> tuple[Recording, ScriptedScale, list[Event]]:
    stop = threading.Event()
    driver = ScriptedScale(steps, stop)
    out: Outbound = queue.Queue()
    worker = Recording(driver, out)
    worker.run(stop)
    events = []
    while not out.empty():
        item = out.get_nowait()
        assert isinstance(item, Event)
        events.append(item)
    return worker, driver, events


def test_answers_are_used_and_bad_frames_counted_and_skipped() -> None:
    first, second = WeightSample(1.0, True), WeightSample(2.0, False)
    worker, driver, events = run_script([first, FrameError("garbage"), None, second])
    assert worker.used == [first, second]  # None: answered, nothing to use
    assert worker.stats.bad_frames == 1
    assert worker.stats.faults == 0
    assert worker.faults == []
    assert worker.before == 4  # before every poll
    assert worker.stats.health == DriverHealth.OK
    assert events == []  # coming up is not news
    assert (driver.opens, driver.closes, worker.stats.reopens) == (1, 2, 1)


def test_faults_are_counted_and_handed_on_without_reopening() -> None:
    overload = WeightOutOfRange("scripted", "overload")
    tilted = DeviceFault("scripted", "TL", "not level")
    refused = DriverError("scripted: refused")
    worker, driver, _ = run_script([overload, tilted, refused, WeightSample(3.0, True)])
    assert worker.faults == [overload, tilted, refused]
    assert worker.stats.faults == 3
    assert worker.used == [WeightSample(3.0, True)]
    assert driver.opens == 1


def test_a_device_that_stops_answering_is_marked_and_reopened() -> None:
    gone = DeviceUnavailable("scripted: no reply within 1 s")
    worker, driver, events = run_script([WeightSample(1.0, True), gone, WeightSample(2.0, True)])
    assert driver.opens == 2
    assert worker.stats.reopens == 2
    assert worker.used == [WeightSample(1.0, True), WeightSample(2.0, True)]
    assert worker.stats.faults == 0
    assert [(e.kind, e.detail) for e in events] == [
        (EventKind.DRIVER, "unavailable: scripted: no reply within 1 s"),
        (EventKind.DRIVER, "ok: opened"),
    ]
    assert worker.stats.health == DriverHealth.OK
