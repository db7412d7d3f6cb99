"""Sartorius SBI driver against the emulated balance through a real pseudo-terminal."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError

from edge_agent.drivers.base import WeightSample
from edge_agent.drivers.sartorius import SartoriusConfig, SartoriusScale, WeightFrame
from edge_agent.errors import (
    CommandRejected,
    DeviceUnavailable,
    DriverError,
    FrameError,
    WeightOutOfRange,
)
from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.sartorius_scale import SartoriusEmulator
from tests.edge_agent.drivers.rigs import driver_rigs

pytestmark = pytest.mark.timeout(30)

MODES = ["request", "stream"]

Rig = Callable[..., tuple[SartoriusEmulator, SartoriusScale]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(DEFAULT_CELL, settle_s=0.0)


def eventually(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    """Wait until the emulator has acted on a command; SBI sends no acknowledgement."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make an emulator and an open scale on it; both are closed afterwards.

    In stream mode the emulator auto-prints every 20 ms.
    """
    with driver_rigs() as opened:

        def make(
            *,
            mode: str = "request",
            timeout_s: float = 1.0,
            driver: dict[str, Any] | None = None,
            **emulator: Any,
        ) -> tuple[SartoriusEmulator, SartoriusScale]:
            defaults: dict[str, Any] = {"cell": CELL}
            if mode == "stream":
                defaults |= {"auto_print": True, "print_interval_s": 0.02}
            emu = SartoriusEmulator(**(defaults | emulator))
            emu.start()
            config = SartoriusConfig(
                type="sartorius", port=emu.port, mode=mode, timeout_s=timeout_s, **(driver or {})
            )
            scale = SartoriusScale(config)
            return opened(emu, scale)

        yield make


@pytest.mark.parametrize("mode", MODES)
def test_stable_reading_with_id_codes(rig: Rig, mode: str) -> None:
    # 16-character frames are covered by test_scale_driver_contract.py.
    emu, scale = rig(mode=mode, id_codes=True)
    emu.set_load(123.45)
    assert scale.read_weight() == WeightSample(grams=123.45, stable=True)
    assert scale.stats.ok == 1
    assert scale.stats.bad == 0
    assert 123.45 in emu.reported_stable


def test_unstable_frames_take_the_unit_of_the_last_stable_one(rig: Rig) -> None:
    emu, scale = rig(unit="kg", cell=replace(CELL, dynamic_noise_g=0.0))
    emu.set_load(1500.0)
    assert scale.read_weight() == WeightSample(grams=1500.0, stable=True)
    emu.cell = replace(emu.cell, settle_s=30.0)
    emu.set_load(2500.0)
    sample = scale.read_weight()
    assert sample == WeightSample(grams=pytest.approx(2500.0), stable=False)  # type: ignore[arg-type]


def test_configured_unit_applies_before_any_stable_frame(rig: Rig) -> None:
    emu, scale = rig(
        unit="kg", cell=replace(CELL, settle_s=30.0, dynamic_noise_g=0.0), driver={"unit": "kg"}
    )
    emu.set_load(750.0)
    assert scale.read_weight() == WeightSample(grams=pytest.approx(750.0), stable=False)  # type: ignore[arg-type]


def test_stream_never_takes_the_tail_of_a_frame(rig: Rig) -> None:
    # Frames go out in two halves 8 ms apart, so flushes often cut one; the
    # tail of "-     12.50 g" would read as +12.5 g.
    emu, scale = rig(mode="stream", line_time_s=0.008)
    emu.set_load(-12.5)
    for _ in range(10):
        assert scale.read_weight() == WeightSample(grams=-12.5, stable=True)
    assert scale.stats.bad == 0


@pytest.mark.parametrize("id_codes", [False, True], ids=["16-char", "22-char"])
def test_calibration_and_error_codes_are_faults(rig: Rig, id_codes: bool) -> None:
    emu, scale = rig(id_codes=id_codes)
    emu.set_calibrating(True)
    with pytest.raises(DriverError, match="calibration") as calibrating:
        scale.read_weight()
    assert not isinstance(calibrating.value, WeightOutOfRange | FrameError | DeviceUnavailable)
    emu.set_calibrating(False)
    emu.set_error(54)
    with pytest.raises(DriverError, match="error 054"):
        scale.read_weight()
    emu.set_error(None)
    assert scale.read_weight() == WeightSample(grams=0.0, stable=True)


def test_tare_returns_the_weight_it_removes(rig: Rig) -> None:
    emu, scale = rig()
    emu.set_load(250.0)
    assert scale.tare() == 250.0
    eventually(lambda: emu.tare_g == 250.0)
    emu.set_load(300.0)
    assert scale.read_weight() == WeightSample(grams=50.0, stable=True)


def test_tare_in_stream_mode_with_the_tare_key(rig: Rig) -> None:
    emu, scale = rig(mode="stream", driver={"tare_command": "T"})
    emu.set_load(400.0)
    assert scale.tare() == 400.0
    eventually(lambda: emu.tare_g == 400.0)
    assert scale.read_weight() == WeightSample(grams=0.0, stable=True)


def test_tare_refused_without_a_stable_weight(rig: Rig) -> None:
    emu, scale = rig(cell=replace(CELL, settle_s=30.0))
    emu.set_load(250.0)
    with pytest.raises(CommandRejected, match="'ESC U' rejected with unstable") as info:
        scale.tare()
    assert info.value.code == "unstable"
    assert emu.tare_g == 0.0


def test_display_blank_while_taring_reads_none(rig: Rig) -> None:
    emu, scale = rig(taring_s=0.2)
    emu.set_load(100.0)
    scale.tare()
    assert scale.read_weight() is None  # ESC P is answered after ESC U: blank
    with pytest.raises(CommandRejected, match="blank"):
        scale.tare()
    eventually(lambda: scale.read_weight() is not None)
    assert scale.read_weight() == WeightSample(grams=0.0, stable=True)


def test_zero(rig: Rig) -> None:
    emu, scale = rig()
    emu.set_load(3.0)
    scale.zero()
    eventually(lambda: emu.commands_received == 1)
    assert scale.read_weight() == WeightSample(grams=0.0, stable=True)
    emu.set_load(15.5)
    assert scale.read_weight() == WeightSample(grams=12.5, stable=True)


def test_zero_outside_the_zero_range_is_ignored_by_the_balance(rig: Rig) -> None:
    emu, scale = rig(zero_range_g=10.0)
    emu.set_load(500.0)
    scale.zero()  # no acknowledgement in SBI: nothing to raise
    eventually(lambda: emu.commands_received == 1)
    assert scale.read_weight() == WeightSample(grams=500.0, stable=True)


def test_request_mode_against_a_balance_that_does_not_stream(rig: Rig) -> None:
    _, scale = rig(mode="request")
    scale.config = scale.config.model_copy(update={"mode": "stream", "timeout_s": 0.1})
    with pytest.raises(DeviceUnavailable):
        scale.read_weight()  # stream mode waits for prints that never come


def test_read_frame_returns_the_parsed_frame(rig: Rig) -> None:
    emu, scale = rig(id_codes=True)
    emu.set_load(1.0)
    assert scale.read_frame() == WeightFrame(1.0, "g", "N")
    assert scale.read_weight() == WeightSample(grams=1.0, stable=True)


# -- configuration (sample.toml: test_driver_sample_config.py) ----------------


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"baudrate": 9601}, "baudrate 9601 is not supported by pyserial; use one of: 50, 75"),
        ({"parity": "X"}, "parity 'X' is not supported by pyserial; use one of: N, E, O, M, S"),
        ({"bytesize": 9}, "bytesize 9 is not supported"),
        ({"stopbits": 3}, "stopbits 3.0 is not supported"),
        ({"mode": "auto"}, "Input should be 'request' or 'stream'"),
        ({"timeout_s": 0}, "greater than 0"),
        ({"unit": "pcs"}, "unit 'pcs' is not one of: g, kg"),
        ({"tare_command": "Z"}, "Input should be 'U' or 'T'"),
        ({"sku": "BOLT-M8"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_rejected_clearly(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        SartoriusConfig.model_validate({"type": "sartorius", "port": "/dev/ttyUSB0", **option})
