"""OpenScale driver against the emulated board through a real pseudo-terminal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError

from edge_agent.drivers.base import WeightSample
from edge_agent.drivers.openscale import OpenScale, OpenScaleConfig, StabilityWindow
from edge_agent.errors import (
    CommandRejected,
    DeviceUnavailable,
    DriverError,
    FrameError,
    WeightOutOfRange,
)
from firmware_sim.openscale_board import BOARD_CELL, OpenScaleEmulator
from tests.edge_agent.drivers.rigs import driver_rigs

pytestmark = pytest.mark.timeout(30)


Rig = Callable[..., tuple[OpenScaleEmulator, OpenScale]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(BOARD_CELL, settle_s=0.0)


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make a board reporting every 10 ms (kg, 3 decimals) and an open driver on it.

    With `start=False` the driver opens the port before the board powers up.
    """
    with driver_rigs() as opened:

        def make(
            *,
            start: bool = True,
            timeout_s: float = 1.0,
            driver: dict[str, Any] | None = None,
            **emulator: Any,
        ) -> tuple[OpenScaleEmulator, OpenScale]:
            defaults: dict[str, Any] = {
                "cell": CELL,
                "report_interval_s": 0.01,
                "unit": "kg",
                "decimals": 3,
            }
            emu = OpenScaleEmulator(**(defaults | emulator))
            if start:
                emu.start()
            config = OpenScaleConfig(
                type="openscale", port=emu.port, timeout_s=timeout_s, **(driver or {})
            )
            scale = OpenScale(config)
            return opened(emu, scale)

        yield make


def reads(scale: OpenScale, count: int) -> list[WeightSample]:
    return [scale.read_weight() for _ in range(count)]


def test_stable_once_the_window_agrees(rig: Rig) -> None:
    emu, scale = rig()
    emu.set_load(350.0)
    samples = reads(scale, 4)
    assert [s.grams for s in samples] == [350.0] * 4
    assert [s.stable for s in samples] == [False, False, True, True]
    assert scale.stats.ok == 4
    assert set(emu.reported_stable) <= {0.0, 350.0}


def test_window_of_one_trusts_every_reading(rig: Rig) -> None:
    emu, scale = rig(driver={"stable_window": 1})
    emu.set_load(120.0)
    assert scale.read_weight() == WeightSample(grams=120.0, stable=True)


def test_noise_within_tolerance_is_stable_beyond_it_is_not(rig: Rig) -> None:
    emu, scale = rig(cell=replace(CELL, noise_g=1.0), seed=3, driver={"stable_tolerance_g": 10.0})
    emu.set_load(500.0)
    assert reads(scale, 5)[-1].stable
    emu.cell = replace(emu.cell, noise_g=30.0)
    assert not any(s.stable for s in reads(scale, 5)[2:])


def test_a_load_change_ends_stability(rig: Rig) -> None:
    emu, scale = rig()
    emu.set_load(200.0)
    assert reads(scale, 3)[-1].stable
    emu.set_load(260.0)
    assert scale.read_weight() == WeightSample(grams=260.0, stable=False)
    assert reads(scale, 2)[-1] == WeightSample(grams=260.0, stable=True)


def test_pounds_and_every_optional_field(rig: Rig) -> None:
    emu, scale = rig(unit="lbs", decimals=2, raw_reading=True, remote_sensor=True)
    emu.set_load(453.59237)
    assert scale.read_weight().grams == pytest.approx(453.59237)


def test_timestamp_off_is_detected(rig: Rig) -> None:
    emu, scale = rig(timestamp=False, local_temp=False, remote_temp=False)
    emu.set_load(75.0)
    assert scale.read_weight().grams == 75.0


def test_banner_at_power_up_is_skipped_and_counted(rig: Rig) -> None:
    emu, scale = rig(start=False, boot_s=0.05)  # boots quietly, like the real board
    emu.set_load(40.0)
    emu.start()
    assert scale.read_weight().grams == 40.0
    assert scale.stats.banner >= 6  # the blank first line may be the one thrown away
    assert scale.stats.bad == 0


def test_banner_after_a_reset_restarts_the_window(rig: Rig) -> None:
    emu, scale = rig(boot_s=0.05)
    emu.set_load(40.0)
    assert reads(scale, 3)[-1].stable
    emu.restart()  # silent while it boots, so the banner comes after the flush
    sample = scale.read_weight()
    assert sample == WeightSample(grams=40.0, stable=False)
    assert scale.stats.banner >= 6


def test_stream_never_takes_the_tail_of_a_line(rig: Rig) -> None:
    # Lines go out in two halves 8 ms apart, so flushes often cut one; the
    # tail `450,kg,...` of `-0.450,kg,...` would read as 450 kg.
    emu, scale = rig(line_time_s=0.008)
    emu.set_load(-450.0)
    for sample in reads(scale, 10):
        assert sample.grams == -450.0
    assert scale.stats.bad == 0


def test_out_of_range_when_limits_are_configured(rig: Rig) -> None:
    # Over- and underload in general: test_scale_driver_contract.py.
    emu, scale = rig(
        cell=replace(CELL, capacity_g=5000.0), driver={"capacity_g": 4000.0, "underload_g": 100.0}
    )
    emu.set_load(400.0)
    assert reads(scale, 3)[-1].stable
    emu.set_load(6000.0)  # the ADC saturates at 5000 g: still beyond 4000
    with pytest.raises(WeightOutOfRange, match="overload"):
        scale.read_weight()
    assert len(scale.window) == 0
    emu.set_load(400.0)
    assert scale.read_weight() == WeightSample(grams=400.0, stable=False)


def test_without_limits_any_weight_passes(rig: Rig) -> None:
    emu, scale = rig(cell=replace(CELL, capacity_g=5000.0))
    emu.set_load(9000.0)
    assert scale.read_weight().grams == 5000.0  # saturated: only a limit can tell


def test_uncalibrated_board_is_a_fault(rig: Rig) -> None:
    emu, scale = rig()
    emu.uncalibrated = True
    with pytest.raises(DriverError, match="'inf': not calibrated") as info:
        scale.read_weight()
    assert not isinstance(info.value, FrameError | DeviceUnavailable | WeightOutOfRange)
    emu.uncalibrated = False
    assert scale.read_weight().grams == 0.0


def test_tare_and_zero_are_refused_without_touching_the_board(rig: Rig) -> None:
    emu, scale = rig()
    with pytest.raises(CommandRejected, match="not supported remotely") as tare:
        scale.tare()
    assert tare.value.code == "unsupported"
    with pytest.raises(CommandRejected, match="tare_g in the agent config"):
        scale.zero()
    assert emu.characters_received == 0
    assert not emu.in_menu


def test_stability_window_alone() -> None:
    window = StabilityWindow(3, 0.5)
    assert [window.add(g) for g in (10.0, 10.2, 10.5, 11.2, 11.0)] == [
        False,
        False,
        True,
        False,
        False,
    ]
    assert window.add(10.9)  # 11.2, 11.0, 10.9
    window.clear()
    assert not window.add(10.9)
    lbs = 453.59237
    pounds = StabilityWindow(2, 0.01 * lbs)  # one display step of 0.01 lbs
    assert not pounds.add(0.44 * lbs)
    assert pounds.add(0.45 * lbs)  # float rounding must not break an exact step


# -- configuration (sample.toml: test_driver_sample_config.py) ----------------


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"baudrate": 9601}, "baudrate 9601 is not supported by pyserial; use one of: 50, 75"),
        ({"parity": "X"}, "parity 'X' is not supported by pyserial; use one of: N, E, O, M, S"),
        ({"bytesize": 9}, "bytesize 9 is not supported"),
        ({"stopbits": 3}, "stopbits 3.0 is not supported"),
        ({"timeout_s": 0}, "greater than 0"),
        ({"stable_window": 0}, "greater than or equal to 1"),
        ({"stable_tolerance_g": -1}, "greater than or equal to 0"),
        ({"capacity_g": 0}, "greater than 0"),
        ({"timestamp": True}, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_rejected_clearly(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        OpenScaleConfig.model_validate({"type": "openscale", "port": "/dev/ttyUSB0", **option})
