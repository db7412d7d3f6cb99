"""A&D driver against the emulated balance through a real pseudo-terminal."""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from edge_agent.drivers.aandd import AandDConfig, AandDScale, BalanceFault
from edge_agent.drivers.aandd import driver as driver_module
from edge_agent.drivers.base import WeightDriver, WeightSample
from edge_agent.errors import CommandRejected, DeviceUnavailable, FrameError, WeightOutOfRange
from firmware_sim.aandd_scale import AandDEmulator

pytestmark = pytest.mark.timeout(30)

SAMPLE = Path(driver_module.__file__).parent / "sample.toml"
BINDING_KEYS = {"location", "sku", "item_weight_g", "tare_g", "poll_interval_s"}
MODES = ["stream", "request"]

Rig = Callable[..., tuple[AandDEmulator, AandDScale]]


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make an emulator and an open driver on it; both are closed afterwards.

    The emulator streams at 50 frames/s (real balances: about 10) to keep
    the tests fast; one test uses the real rate.
    """
    made: list[tuple[AandDEmulator, AandDScale]] = []

    def make(
        *,
        mode: Literal["stream", "request"] = "stream",
        acknowledge: bool = False,
        timeout_s: float = 1.0,
        **emulator: Any,
    ) -> tuple[AandDEmulator, AandDScale]:
        knobs: dict[str, Any] = {"settle_s": 0.0, "rate_hz": 50.0, **emulator}
        emu = AandDEmulator(mode=mode, acknowledge=acknowledge, **knobs)
        emu.start()
        # A pty carries bytes whatever the line settings, and some kernels
        # refuse A&D's 7E1 on a pty: the rig uses 8N1.
        config = AandDConfig(
            type="aandd",
            port=emu.port,
            bytesize=8,
            parity="N",
            mode=mode,
            acknowledge=acknowledge,
            timeout_s=timeout_s,
        )
        scale = AandDScale(config)
        made.append((emu, scale))
        scale.open()
        return emu, scale

    yield make
    for emu, scale in made:
        scale.close()
        emu.stop()


@pytest.mark.parametrize("mode", MODES)
def test_stable_reading(rig: Rig, mode: str) -> None:
    emu, scale = rig(mode=mode)
    emu.set_load(123.45)
    assert scale.read_weight() == WeightSample(grams=123.45, stable=True)
    assert scale.stats.ok == 1
    assert scale.stats.bad == 0
    assert 123.45 in emu.reported_stable


@pytest.mark.parametrize("mode", MODES)
def test_unstable_reading_while_settling(rig: Rig, mode: str) -> None:
    emu, scale = rig(mode=mode, settle_s=30.0, dynamic_noise_g=1.0)
    emu.set_load(500.0)
    sample = scale.read_weight()
    assert not sample.stable
    assert sample.grams == pytest.approx(500.0, abs=1.0)


def test_stream_read_is_fresh_not_buffered(rig: Rig) -> None:
    emu, scale = rig()
    emu.set_load(10.0)
    time.sleep(0.1)  # several 10 g frames wait in the input buffer
    emu.set_load(20.0)
    assert scale.read_weight() == WeightSample(grams=20.0, stable=True)


def test_stream_at_the_real_rate(rig: Rig) -> None:
    emu, scale = rig(rate_hz=10.0)
    emu.set_load(42.0)
    started = time.monotonic()
    assert scale.read_weight() == WeightSample(grams=42.0, stable=True)
    assert time.monotonic() - started < 0.6  # about two frame periods, with slack


def test_kilogram_frames_are_converted(rig: Rig) -> None:
    emu, scale = rig(unit="kg")
    emu.set_load(1234.5)
    assert scale.read_weight() == WeightSample(grams=1234.5, stable=True)


@pytest.mark.parametrize("mode", MODES)
def test_overload_and_underload_raise(rig: Rig, mode: str) -> None:
    emu, scale = rig(mode=mode, capacity_g=1000.0, underload_g=20.0)
    emu.set_load(1000.5)
    with pytest.raises(WeightOutOfRange, match="overload") as over:
        scale.read_weight()
    assert over.value.direction == "overload"
    emu.set_load(-25.0)
    with pytest.raises(WeightOutOfRange) as under:
        scale.read_weight()
    assert under.value.direction == "underload"
    emu.set_load(999.0)
    assert scale.read_weight() == WeightSample(grams=999.0, stable=True)


@pytest.mark.parametrize("mode", MODES)
def test_counting_mode_is_a_fault(rig: Rig, mode: str) -> None:
    emu, scale = rig(mode=mode)
    emu.set_load(100.0)
    emu.piece_weight_g = 2.0
    with pytest.raises(BalanceFault, match="QT PC: counting mode") as info:
        scale.read_weight()
    assert info.value.code == "QT PC"
    emu.piece_weight_g = None
    assert scale.read_weight() == WeightSample(grams=100.0, stable=True)


@pytest.mark.parametrize("acknowledge", [False, True], ids=["no-ak", "ak"])
@pytest.mark.parametrize("mode", MODES)
def test_tare_and_zero(rig: Rig, mode: str, acknowledge: bool) -> None:
    emu, scale = rig(mode=mode, acknowledge=acknowledge)
    emu.set_load(250.0)
    assert scale.tare() == 250.0
    assert emu.tare_g == 250.0
    emu.set_load(300.0)
    assert scale.read_weight() == WeightSample(grams=50.0, stable=True)
    scale.zero()
    assert emu.tare_g == 0.0  # re-zero clears the tare
    emu.set_load(312.5)
    assert scale.read_weight() == WeightSample(grams=12.5, stable=True)


@pytest.mark.parametrize("mode", MODES)
def test_tare_refused_without_a_stable_weight(rig: Rig, mode: str) -> None:
    emu, scale = rig(mode=mode, settle_s=30.0, timeout_s=0.1)
    emu.set_load(250.0)
    with pytest.raises(CommandRejected, match="'T' rejected with US") as info:
        scale.tare()
    assert info.value.code == "US"
    assert emu.tare_g == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_zero_refused_with_e11_when_ak_is_on(rig: Rig, mode: str) -> None:
    emu, scale = rig(mode=mode, acknowledge=True, settle_s=30.0, stable_timeout_s=0.1)
    emu.set_load(3.0)
    with pytest.raises(CommandRejected, match="stability error") as info:
        scale.zero()
    assert info.value.code == "E11"


def test_zero_unconfirmed_without_ak(rig: Rig) -> None:
    emu, scale = rig(settle_s=30.0, stable_timeout_s=0.1, timeout_s=0.3)
    emu.set_load(3.0)
    with pytest.raises(CommandRejected, match="no stable zero") as info:
        scale.zero()
    assert info.value.code == "not zero"


def test_zero_command_z(rig: Rig) -> None:
    emu, scale = rig(acknowledge=True)
    scale.config = scale.config.model_copy(update={"zero_command": "Z"})
    emu.set_load(4.0)
    scale.zero()
    assert scale.read_weight() == WeightSample(grams=0.0, stable=True)


def test_ak_expected_but_balance_has_it_off(rig: Rig) -> None:
    emu, scale = rig(timeout_s=0.3)
    emu.acknowledge = False
    scale.config = scale.config.model_copy(update={"acknowledge": True})
    with pytest.raises(CommandRejected, match="is 'AK, error code' on"):
        scale.zero()


@pytest.mark.parametrize("mode", MODES)
def test_garbage_is_counted_and_skipped(rig: Rig, mode: str) -> None:
    emu, scale = rig(mode=mode, garbage_probability=1.0)
    emu.set_load(80.0)
    with pytest.raises(FrameError, match="non-ASCII"):
        scale.read_weight()
    assert scale.stats.bad == 1
    emu.garbage_probability = 0.0
    assert scale.read_weight() == WeightSample(grams=80.0, stable=True)
    assert scale.stats.ok == 1


@pytest.mark.parametrize("mode", MODES)
def test_mixed_garbage_never_yields_a_wrong_weight(rig: Rig, mode: str) -> None:
    emu, scale = rig(mode=mode, garbage_probability=0.4, seed=7, rate_hz=100.0)
    emu.set_load(123.45)
    good = bad = 0
    for _ in range(20):
        try:
            sample = scale.read_weight()
        except FrameError:
            bad += 1
            continue
        assert sample == WeightSample(grams=123.45, stable=True)
        good += 1
    assert good > 0
    assert bad > 0
    assert (scale.stats.ok, scale.stats.bad) == (good, bad)


def test_dropped_reply_times_out_then_recovers(rig: Rig) -> None:
    emu, scale = rig(mode="request", drop_probability=1.0, timeout_s=0.2)
    emu.set_load(10.0)
    started = time.monotonic()
    with pytest.raises(DeviceUnavailable, match=r"no frame within 0\.2 s"):
        scale.read_weight()
    assert time.monotonic() - started < 1.0
    assert scale.stats.timeouts == 1
    emu.drop_probability = 0.0
    assert scale.read_weight() == WeightSample(grams=10.0, stable=True)


@pytest.mark.parametrize("mode", MODES)
def test_silent_device_times_out_until_it_recovers(rig: Rig, mode: str) -> None:
    emu, scale = rig(mode=mode, timeout_s=0.1)
    emu.set_load(10.0)
    emu.fail()
    with pytest.raises(DeviceUnavailable):
        scale.read_weight()
    with pytest.raises(DeviceUnavailable):
        scale.tare()
    emu.recover()
    assert scale.read_weight() == WeightSample(grams=10.0, stable=True)


def test_emulator_gone_raises_device_unavailable(rig: Rig) -> None:
    emu, scale = rig(timeout_s=0.3)
    emu.stop()
    with pytest.raises(DeviceUnavailable):
        scale.read_weight()


def test_close_is_idempotent_and_reads_after_close_fail(rig: Rig) -> None:
    _, scale = rig()
    scale.close()
    scale.close()
    assert not scale.is_open
    with pytest.raises(DeviceUnavailable, match="not open"):
        scale.read_weight()
    with pytest.raises(DeviceUnavailable, match="not open"):
        scale.zero()


def test_open_missing_port_raises_device_unavailable() -> None:
    scale = AandDScale(AandDConfig(type="aandd", port="/dev/does-not-exist-aandd"))
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        scale.open()
    scale.close()


def test_port_is_opened_exclusively(rig: Rig) -> None:
    emu, scale = rig()
    other = AandDScale(scale.config)
    with pytest.raises(DeviceUnavailable):
        other.open()
    assert scale.name == emu.port


def test_satisfies_weight_driver_protocol(rig: Rig) -> None:
    emu, scale = rig()
    driver: WeightDriver = scale  # checked by mypy when run over tests
    emu.set_load(1.0)
    assert driver.read_weight() == WeightSample(grams=1.0, stable=True)


# -- configuration -----------------------------------------------------------


def _sample_table() -> dict[str, Any]:
    scales = tomllib.loads(SAMPLE.read_text(encoding="utf-8"))["scales"]
    assert isinstance(scales, list)
    assert len(scales) == 1
    table: dict[str, Any] = scales[0]
    return table


def test_sample_driver_part_validates() -> None:
    table = _sample_table()
    assert BINDING_KEYS - {"poll_interval_s"} <= table.keys()
    driver_part = {k: v for k, v in table.items() if k not in BINDING_KEYS}
    config = AandDConfig.model_validate(driver_part)
    assert config.port == "/dev/ttyUSB0"


def test_sample_commented_options_are_the_defaults() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    driver_text = text.split("--- agent's binding")[0]
    commented = re.findall(r"^# (\w+ = .+)$", driver_text, flags=re.MULTILINE)
    shown = tomllib.loads("\n".join(commented))
    defaults = AandDConfig(type="aandd", port="x").model_dump()
    assert shown.keys() == defaults.keys() - {"type", "port"}
    assert all(defaults[k] == v for k, v in shown.items())


def test_serial_defaults_are_a_and_d_factory_settings() -> None:
    config = AandDConfig(type="aandd", port="x")
    assert (config.baudrate, config.bytesize, config.parity, config.stopbits) == (2400, 7, "E", 1)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"baudrate": 2401}, "baudrate 2401 is not supported by pyserial; use one of: 50, 75"),
        ({"parity": "X"}, "parity 'X' is not supported by pyserial; use one of: N, E, O, M, S"),
        ({"bytesize": 9}, "bytesize 9 is not supported"),
        ({"stopbits": 3}, "stopbits 3.0 is not supported"),
        ({"mode": "continuous"}, "Input should be 'stream' or 'request'"),
        ({"zero_command": "ESC T"}, "Input should be 'R' or 'Z'"),
        ({"timeout_s": 0}, "greater than 0"),
        ({"port": ""}, "at least 1 character"),
        ({"sku": "BOLT-M8"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_rejected_clearly(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        AandDConfig.model_validate({"type": "aandd", "port": "/dev/ttyUSB0", **option})
