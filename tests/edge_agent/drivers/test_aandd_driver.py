"""A&D driver against the emulated balance through a real pseudo-terminal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from edge_agent.drivers.aandd import AandDConfig, AandDScale, BalanceFault
from edge_agent.drivers.base import WeightSample
from edge_agent.errors import CommandRejected
from firmware_sim.aandd_scale import AandDEmulator
from firmware_sim.load_cell import DEFAULT_CELL
from tests.edge_agent.drivers.rigs import driver_rigs

pytestmark = pytest.mark.timeout(30)

MODES = ["stream", "request"]

Rig = Callable[..., tuple[AandDEmulator, AandDScale]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(DEFAULT_CELL, settle_s=0.0)


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make an emulator and an open driver on it; both are closed afterwards.

    The emulator streams at 50 frames/s (real balances: about 10) to keep
    the tests fast; one test uses the real rate.
    """
    with driver_rigs() as opened:

        def make(
            *,
            mode: Literal["stream", "request"] = "stream",
            acknowledge: bool = False,
            timeout_s: float = 1.0,
            **emulator: Any,
        ) -> tuple[AandDEmulator, AandDScale]:
            knobs: dict[str, Any] = {"cell": CELL, "rate_hz": 50.0, **emulator}
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
            return opened(emu, scale)

        yield make


def test_kilogram_frames_are_converted(rig: Rig) -> None:
    emu, scale = rig(unit="kg")
    emu.set_load(1234.5)
    assert scale.read_weight() == WeightSample(grams=1234.5, stable=True)


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
    emu, scale = rig(mode=mode, cell=replace(CELL, settle_s=30.0), timeout_s=0.1)
    emu.set_load(250.0)
    with pytest.raises(CommandRejected, match="'T' rejected with US") as info:
        scale.tare()
    assert info.value.code == "US"
    assert emu.tare_g == 0.0


@pytest.mark.parametrize("mode", MODES)
def test_zero_refused_with_e11_when_ak_is_on(rig: Rig, mode: str) -> None:
    emu, scale = rig(
        mode=mode, acknowledge=True, cell=replace(CELL, settle_s=30.0), stable_timeout_s=0.1
    )
    emu.set_load(3.0)
    with pytest.raises(CommandRejected, match="stability error") as info:
        scale.zero()
    assert info.value.code == "E11"


def test_zero_unconfirmed_without_ak(rig: Rig) -> None:
    emu, scale = rig(cell=replace(CELL, settle_s=30.0), stable_timeout_s=0.1, timeout_s=0.3)
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


# -- configuration (sample.toml: test_driver_sample_config.py) ----------------


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
