"""Device workers against emulated devices on real ptys."""

from __future__ import annotations

import queue
import threading

import pytest

from edge_agent.config import ScaleConfig
from edge_agent.drivers.registry import create_scale
from edge_agent.workers import DeviceStats, Outbound, ScaleWorker
from firmware_sim.mtsics_scale import MtSicsEmulator
from vmi.clock import SystemClock

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
