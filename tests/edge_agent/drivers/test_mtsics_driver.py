"""MT-SICS driver against the emulated scale through a real pseudo-terminal."""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from edge_agent.drivers.base import WeightDriver, WeightSample
from edge_agent.drivers.mtsics import ErrorCode, ErrorReply, MtSicsConfig, MtSicsScale
from edge_agent.drivers.mtsics import driver as driver_module
from edge_agent.errors import CommandRejected, DeviceUnavailable, FrameError, WeightOutOfRange
from firmware_sim.mtsics_scale import MtSicsEmulator

pytestmark = pytest.mark.timeout(30)

SAMPLE = Path(driver_module.__file__).parent / "sample.toml"
BINDING_KEYS = {"location", "sku", "item_weight_g", "tare_g", "poll_interval_s"}

Rig = Callable[..., tuple[MtSicsEmulator, MtSicsScale]]


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make an emulator and an open scale on it; both are closed afterwards."""
    made: list[tuple[MtSicsEmulator, MtSicsScale]] = []

    def make(
        *, command: str = "SI", timeout_s: float = 1.0, **emulator: Any
    ) -> tuple[MtSicsEmulator, MtSicsScale]:
        emu = MtSicsEmulator(**{"settle_s": 0.0, **emulator})
        emu.start()
        config = MtSicsConfig(type="mtsics", port=emu.port, command=command, timeout_s=timeout_s)
        scale = MtSicsScale(config)
        made.append((emu, scale))
        scale.open()
        return emu, scale

    yield make
    for emu, scale in made:
        scale.close()
        emu.stop()


def test_stable_reading(rig: Rig) -> None:
    emu, scale = rig()
    emu.set_load(100.0)
    assert scale.read_weight() == WeightSample(grams=100.0, stable=True)
    assert scale.stats.ok == 1
    assert scale.stats.bad == 0
    assert emu.reported_stable == [100.0]


def test_dynamic_reading_while_settling(rig: Rig) -> None:
    emu, scale = rig(settle_s=30.0, dynamic_noise_g=1.0)
    emu.set_load(500.0)
    sample = scale.read_weight()
    assert sample is not None
    assert not sample.stable
    assert sample.grams == pytest.approx(500.0, abs=1.0)
    assert emu.reported_stable == []


def test_command_s_waits_for_a_stable_weight(rig: Rig) -> None:
    emu, scale = rig(command="S", settle_s=0.2, stable_timeout_s=1.0)
    emu.set_load(42.5)
    assert scale.read_weight() == WeightSample(grams=42.5, stable=True)


def test_busy_when_no_stable_weight_in_time(rig: Rig) -> None:
    emu, scale = rig(command="S", settle_s=30.0, stable_timeout_s=0.1)
    emu.set_load(42.5)
    assert scale.read_weight() is None
    assert scale.stats.ok == 1


def test_tare_makes_weights_net(rig: Rig) -> None:
    emu, scale = rig()
    emu.set_load(250.0)
    assert scale.tare() == 250.0
    emu.set_load(300.0)
    assert scale.read_weight() == WeightSample(grams=50.0, stable=True)


def test_tare_refused_while_unstable(rig: Rig) -> None:
    emu, scale = rig(settle_s=30.0, stable_timeout_s=0.05)
    emu.set_load(250.0)
    with pytest.raises(CommandRejected, match="'T' rejected with I") as info:
        scale.tare()
    assert info.value.code == "I"


def test_zero(rig: Rig) -> None:
    emu, scale = rig()
    emu.set_load(3.0)
    scale.zero()
    assert scale.read_weight() == WeightSample(grams=0.0, stable=True)
    emu.set_load(15.5)
    assert scale.read_weight() == WeightSample(grams=12.5, stable=True)


def test_overload_and_underload_raise(rig: Rig) -> None:
    emu, scale = rig(capacity_g=1000.0, underload_g=20.0)
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


def test_unknown_command_answers_es(rig: Rig) -> None:
    _, scale = rig()
    assert scale.query("XYZ") == ErrorReply(ErrorCode.SYNTAX)
    with pytest.raises(ValueError, match="upper-case"):
        scale.query("si")


def test_garbage_is_counted_and_skipped(rig: Rig) -> None:
    emu, scale = rig(garbage_probability=1.0)
    emu.set_load(80.0)
    with pytest.raises(FrameError, match="non-ASCII"):
        scale.read_weight()
    assert scale.stats.bad == 1
    emu.garbage_probability = 0.0
    assert scale.read_weight() == WeightSample(grams=80.0, stable=True)
    assert scale.stats.ok == 1


def test_mixed_garbage_never_yields_a_wrong_weight(rig: Rig) -> None:
    emu, scale = rig(garbage_probability=0.4, seed=7)
    emu.set_load(123.45)
    good = bad = 0
    for _ in range(40):
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
    assert emu.reported_stable == [123.45] * good


def test_dropped_reply_times_out_then_recovers(rig: Rig) -> None:
    emu, scale = rig(drop_probability=1.0, timeout_s=0.2)
    emu.set_load(10.0)
    started = time.monotonic()
    with pytest.raises(DeviceUnavailable, match=r"no reply to 'SI' within 0\.2 s"):
        scale.read_weight()
    assert time.monotonic() - started < 1.0
    assert scale.stats.timeouts == 1
    emu.drop_probability = 0.0
    assert scale.read_weight() == WeightSample(grams=10.0, stable=True)


def test_silent_device_times_out_until_it_recovers(rig: Rig) -> None:
    emu, scale = rig(timeout_s=0.2)
    emu.set_load(10.0)
    emu.fail()
    with pytest.raises(DeviceUnavailable):
        scale.read_weight()
    emu.recover()
    assert scale.read_weight() == WeightSample(grams=10.0, stable=True)


def test_late_reply_to_an_earlier_command_is_skipped(rig: Rig) -> None:
    # T waits for stability (0.9 s) longer than the driver waits (0.6 s); the
    # late `T S` arrives after the next command was sent (0.6 s) and before
    # that command's deadline (1.2 s), and must be skipped.
    emu, scale = rig(settle_s=0.9, stable_timeout_s=2.0, timeout_s=0.6)
    emu.set_load(200.0)
    with pytest.raises(DeviceUnavailable):
        scale.tare()
    sample = scale.read_weight()
    assert scale.stats.stale == 1
    assert sample == WeightSample(grams=0.0, stable=True)  # the late tare did happen


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


def test_open_missing_port_raises_device_unavailable() -> None:
    scale = MtSicsScale(MtSicsConfig(type="mtsics", port="/dev/does-not-exist-mtsics"))
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        scale.open()
    scale.close()


def test_port_is_opened_exclusively(rig: Rig) -> None:
    emu, scale = rig()
    other = MtSicsScale(scale.config)
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
    config = MtSicsConfig.model_validate(driver_part)
    assert config.port == "/dev/ttyUSB0"


def test_sample_commented_options_are_the_defaults() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    driver_text = text.split("--- agent's binding")[0]
    commented = re.findall(r"^# (\w+ = .+)$", driver_text, flags=re.MULTILINE)
    shown = tomllib.loads("\n".join(commented))
    defaults = MtSicsConfig(type="mtsics", port="x").model_dump()
    assert shown.keys() == defaults.keys() - {"type", "port"}
    assert all(defaults[k] == v for k, v in shown.items())


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"baudrate": 9601}, "baudrate 9601 is not supported by pyserial; use one of: 50, 75"),
        ({"parity": "X"}, "parity 'X' is not supported by pyserial; use one of: N, E, O, M, S"),
        ({"bytesize": 9}, "bytesize 9 is not supported"),
        ({"stopbits": 3}, "stopbits 3.0 is not supported"),
        ({"command": "SIR"}, "Input should be 'SI' or 'S'"),
        ({"timeout_s": 0}, "greater than 0"),
        ({"sku": "BOLT-M8"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_rejected_clearly(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        MtSicsConfig.model_validate({"type": "mtsics", "port": "/dev/ttyUSB0", **option})
