"""ST,GS driver against the emulated indicator through a real pseudo-terminal."""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from edge_agent.drivers.base import WeightDriver, WeightSample
from edge_agent.drivers.stgs import IndicatorFault, StGsConfig, StGsIndicator
from edge_agent.drivers.stgs import driver as driver_module
from edge_agent.errors import CommandRejected, DeviceUnavailable, FrameError, WeightOutOfRange
from firmware_sim.stgs_indicator import StGsEmulator

pytestmark = pytest.mark.timeout(30)

SAMPLE = Path(driver_module.__file__).parent / "sample.toml"
BINDING_KEYS = {"location", "sku", "item_weight_g", "tare_g", "poll_interval_s"}
MODES = ["stream", "request"]

Rig = Callable[..., tuple[StGsEmulator, StGsIndicator]]


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make an emulator and an open driver on it; both are closed afterwards.

    The emulator streams at 50 frames/s to keep the tests fast. `address`
    goes to both unless `driver_address` says otherwise.
    """
    made: list[tuple[StGsEmulator, StGsIndicator]] = []

    def make(
        *,
        mode: Literal["stream", "request"] = "stream",
        address: str | None = None,
        driver_address: str | None = "same",
        timeout_s: float = 1.0,
        **emulator: Any,
    ) -> tuple[StGsEmulator, StGsIndicator]:
        knobs: dict[str, Any] = {"settle_s": 0.0, "rate_hz": 50.0, **emulator}
        emu = StGsEmulator(mode=mode, address=address, **knobs)
        emu.start()
        config = StGsConfig(
            type="stgs",
            port=emu.port,
            mode=mode,
            address=address if driver_address == "same" else driver_address,
            timeout_s=timeout_s,
        )
        indicator = StGsIndicator(config)
        made.append((emu, indicator))
        indicator.open()
        return emu, indicator

    yield make
    for emu, indicator in made:
        indicator.close()
        emu.stop()


@pytest.mark.parametrize("mode", MODES)
def test_stable_reading(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode)
    emu.set_load(1250.0)
    assert ind.read_weight() == WeightSample(grams=1250.0, stable=True)
    assert ind.stats.ok == 1
    assert ind.stats.bad == 0
    assert 1250.0 in emu.reported_stable


@pytest.mark.parametrize("mode", MODES)
def test_unstable_reading_while_settling(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode, settle_s=30.0, dynamic_noise_g=3.0)
    emu.set_load(5000.0)
    sample = ind.read_weight()
    assert not sample.stable
    assert sample.grams == pytest.approx(5000.0, abs=3.0)


def test_stream_read_is_fresh_not_buffered(rig: Rig) -> None:
    emu, ind = rig()
    emu.set_load(1000.0)
    time.sleep(0.1)  # several 1 kg frames wait in the input buffer
    emu.set_load(2000.0)
    assert ind.read_weight() == WeightSample(grams=2000.0, stable=True)


def test_stream_at_the_default_rate(rig: Rig) -> None:
    emu, ind = rig(rate_hz=10.0)
    emu.set_load(42.0)
    started = time.monotonic()
    assert ind.read_weight() == WeightSample(grams=42.0, stable=True)
    assert time.monotonic() - started < 0.6  # about two frame periods, with slack


@pytest.mark.parametrize("mode", MODES)
def test_overload_and_underload_raise(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode, capacity_g=30000.0, underload_g=500.0)
    emu.set_load(30001.0)
    with pytest.raises(WeightOutOfRange, match="overload") as over:
        ind.read_weight()
    assert over.value.direction == "overload"
    emu.set_load(-600.0)
    with pytest.raises(WeightOutOfRange) as under:
        ind.read_weight()
    assert under.value.direction == "underload"
    emu.set_load(29999.0)
    assert ind.read_weight() == WeightSample(grams=29999.0, stable=True)


@pytest.mark.parametrize("mode", MODES)
def test_not_level_and_raw_modes_are_faults(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode)
    emu.set_load(700.0)
    emu.not_level = True
    with pytest.raises(IndicatorFault, match="TL: not level") as tilt:
        ind.read_weight()
    assert tilt.value.code == "TL"
    emu.not_level = False
    for display, words in (("VL", "microvolts"), ("RZ", "converter points")):
        emu.display = display  # type: ignore[assignment]
        with pytest.raises(IndicatorFault, match=words) as raw:
            ind.read_weight()
        assert raw.value.code == display
    emu.display = "weight"
    assert ind.read_weight() == WeightSample(grams=700.0, stable=True)


@pytest.mark.parametrize("address", [None, "01"])
@pytest.mark.parametrize("mode", MODES)
def test_tare_gives_net_weights_and_zero(rig: Rig, mode: str, address: str | None) -> None:
    emu, ind = rig(mode=mode, address=address)
    emu.set_load(1200.0)
    assert ind.tare() == 1200.0
    assert emu.tare_g == 1200.0
    emu.set_load(1450.0)
    assert ind.read_weight() == WeightSample(grams=250.0, stable=True)
    ind.zero()
    assert emu.tare_g == 0.0
    emu.set_load(1500.0)
    assert ind.read_weight() == WeightSample(grams=50.0, stable=True)


@pytest.mark.parametrize("mode", MODES)
def test_tare_refused_without_a_stable_weight(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode, settle_s=30.0, timeout_s=0.1)
    emu.set_load(250.0)
    with pytest.raises(CommandRejected, match="'TARE' rejected with US"):
        ind.tare()
    assert emu.tare_g == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_zero_refused_with_an_error_reply(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode, settle_s=30.0)
    emu.set_load(30.0)
    with pytest.raises(CommandRejected, match="not allowed now") as info:
        ind.zero()
    assert info.value.code == "ERR03"


def test_streaming_indicator_that_ignores_commands(rig: Rig) -> None:
    emu, ind = rig(commands_in_stream=False, timeout_s=0.3)
    emu.set_load(100.0)
    with pytest.raises(CommandRejected, match="did not answer") as info:
        ind.zero()
    assert info.value.code == "no reply"


@pytest.mark.parametrize("mode", MODES)
def test_frames_from_other_addresses_are_ignored(rig: Rig, mode: str) -> None:
    neighbours = {"02": 9000.0, "07": 15000.0}
    emu, ind = rig(mode=mode, address="01", neighbours=neighbours)
    emu.set_load(4321.0)
    for _ in range(5):
        assert ind.read_weight() == WeightSample(grams=4321.0, stable=True)
    assert ind.stats.foreign > 0
    assert ind.name == f"{emu.port}#01"


def test_a_wrong_address_hears_only_others(rig: Rig) -> None:
    _, ind = rig(address="02", driver_address="01", timeout_s=0.2)
    with pytest.raises(DeviceUnavailable, match=r"nothing from address 01 within 0\.2 s \(\d+"):
        ind.read_weight()
    assert ind.stats.foreign > 0
    assert ind.stats.ok == 0


def test_without_an_address_addressed_frames_are_accepted(rig: Rig) -> None:
    emu, ind = rig(address="05", driver_address=None)
    emu.set_load(10.0)
    assert ind.read_weight() == WeightSample(grams=10.0, stable=True)


@pytest.mark.parametrize("mode", MODES)
def test_garbage_is_counted_and_skipped(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode, garbage_probability=1.0)
    emu.set_load(80.0)
    with pytest.raises(FrameError, match="non-ASCII"):
        ind.read_weight()
    assert ind.stats.bad == 1
    emu.garbage_probability = 0.0
    assert ind.read_weight() == WeightSample(grams=80.0, stable=True)
    assert ind.stats.ok == 1


@pytest.mark.parametrize("mode", MODES)
def test_mixed_garbage_never_yields_a_wrong_weight(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode, garbage_probability=0.4, seed=7, rate_hz=100.0)
    emu.set_load(1234.0)
    good = bad = 0
    for _ in range(20):
        try:
            sample = ind.read_weight()
        except FrameError:
            bad += 1
            continue
        assert sample == WeightSample(grams=1234.0, stable=True)
        good += 1
    assert good > 0
    assert bad > 0
    assert (ind.stats.ok, ind.stats.bad) == (good, bad)


def test_dropped_reply_times_out_then_recovers(rig: Rig) -> None:
    emu, ind = rig(mode="request", drop_probability=1.0, timeout_s=0.2)
    emu.set_load(10.0)
    started = time.monotonic()
    with pytest.raises(DeviceUnavailable, match=r"nothing within 0\.2 s"):
        ind.read_weight()
    assert time.monotonic() - started < 1.0
    assert ind.stats.timeouts == 1
    emu.drop_probability = 0.0
    assert ind.read_weight() == WeightSample(grams=10.0, stable=True)


@pytest.mark.parametrize("mode", MODES)
def test_silent_device_times_out_until_it_recovers(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode, timeout_s=0.1)
    emu.set_load(10.0)
    emu.fail()
    with pytest.raises(DeviceUnavailable):
        ind.read_weight()
    with pytest.raises(DeviceUnavailable):
        ind.zero()
    emu.recover()
    assert ind.read_weight() == WeightSample(grams=10.0, stable=True)


def test_emulator_gone_raises_device_unavailable(rig: Rig) -> None:
    emu, ind = rig(timeout_s=0.3)
    emu.stop()
    with pytest.raises(DeviceUnavailable):
        ind.read_weight()


def test_close_is_idempotent_and_reads_after_close_fail(rig: Rig) -> None:
    _, ind = rig()
    ind.close()
    ind.close()
    assert not ind.is_open
    with pytest.raises(DeviceUnavailable, match="not open"):
        ind.read_weight()
    with pytest.raises(DeviceUnavailable, match="not open"):
        ind.tare()


def test_open_missing_port_raises_device_unavailable() -> None:
    ind = StGsIndicator(StGsConfig(type="stgs", port="/dev/does-not-exist-stgs"))
    with pytest.raises(DeviceUnavailable, match="cannot open"):
        ind.open()
    ind.close()


def test_port_is_opened_exclusively(rig: Rig) -> None:
    _, ind = rig()
    other = StGsIndicator(ind.config)
    with pytest.raises(DeviceUnavailable):
        other.open()


def test_satisfies_weight_driver_protocol(rig: Rig) -> None:
    emu, ind = rig()
    driver: WeightDriver = ind  # checked by mypy when run over tests
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
    config = StGsConfig.model_validate(driver_part)
    assert config.port == "/dev/ttyUSB1"
    assert config.address is None


def test_sample_commented_options_are_the_defaults() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    driver_text = text.split("--- agent's binding")[0]
    commented = re.findall(r"^# (\w+ = .+)$", driver_text, flags=re.MULTILINE)
    shown = tomllib.loads("\n".join(commented))
    defaults = StGsConfig(type="stgs", port="x").model_dump()
    # TOML has no null: an option whose default is "unset" is shown as an example.
    unset = {k for k, v in defaults.items() if v is None}
    assert shown.keys() == defaults.keys() - {"type", "port"} - unset
    assert all(defaults[k] == v for k, v in shown.items())
    assert unset == {"address"}
    example = re.search(r"^## (address = .+)$", driver_text, flags=re.MULTILINE)
    assert example is not None
    StGsConfig(type="stgs", port="x", **tomllib.loads(example[1]))


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"baudrate": 9601}, "baudrate 9601 is not supported by pyserial; use one of: 50, 75"),
        ({"parity": "X"}, "parity 'X' is not supported by pyserial; use one of: N, E, O, M, S"),
        ({"bytesize": 9}, "bytesize 9 is not supported"),
        ({"stopbits": 3}, "stopbits 3.0 is not supported"),
        ({"address": "1"}, "String should match pattern"),
        ({"address": "001"}, "String should match pattern"),
        ({"address": "0 "}, "String should match pattern"),
        ({"address": 1}, "Input should be a valid string"),
        ({"mode": "continuous"}, "Input should be 'stream' or 'request'"),
        ({"timeout_s": -1}, "greater than 0"),
        ({"sku": "BOLT-M8"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_rejected_clearly(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        StGsConfig.model_validate({"type": "stgs", "port": "/dev/ttyUSB1", **option})
