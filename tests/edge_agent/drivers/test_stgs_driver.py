"""ST,GS driver against the emulated indicator through a real pseudo-terminal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from edge_agent.drivers.base import WeightSample
from edge_agent.drivers.stgs import IndicatorFault, StGsConfig, StGsIndicator
from edge_agent.errors import CommandRejected, DeviceUnavailable
from firmware_sim.stgs_indicator import INDICATOR_CELL, StGsEmulator
from tests.edge_agent.drivers.rigs import driver_rigs

pytestmark = pytest.mark.timeout(30)

MODES = ["stream", "request"]

Rig = Callable[..., tuple[StGsEmulator, StGsIndicator]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(INDICATOR_CELL, settle_s=0.0)


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make an emulator and an open driver on it; both are closed afterwards.

    The emulator streams at 50 frames/s to keep the tests fast. `address`
    goes to both unless `driver_address` says otherwise.
    """
    with driver_rigs() as opened:

        def make(
            *,
            mode: Literal["stream", "request"] = "stream",
            address: str | None = None,
            driver_address: str | None = "same",
            timeout_s: float = 1.0,
            **emulator: Any,
        ) -> tuple[StGsEmulator, StGsIndicator]:
            knobs: dict[str, Any] = {"cell": CELL, "rate_hz": 50.0, **emulator}
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
            return opened(emu, indicator)

        yield make


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
    emu, ind = rig(mode=mode, cell=replace(CELL, settle_s=30.0), timeout_s=0.1)
    emu.set_load(250.0)
    with pytest.raises(CommandRejected, match="'TARE' rejected with US"):
        ind.tare()
    assert emu.tare_g == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_zero_refused_with_an_error_reply(rig: Rig, mode: str) -> None:
    emu, ind = rig(mode=mode, cell=replace(CELL, settle_s=30.0))
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


# -- configuration (sample.toml: test_driver_sample_config.py) ----------------


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
