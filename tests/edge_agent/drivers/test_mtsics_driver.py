"""MT-SICS driver against the emulated scale through a real pseudo-terminal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError

from edge_agent.drivers.base import WeightSample
from edge_agent.drivers.mtsics import ErrorCode, ErrorReply, MtSicsConfig, MtSicsScale
from edge_agent.errors import CommandRejected, DeviceUnavailable
from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.mtsics_scale import MtSicsEmulator
from tests.edge_agent.drivers.rigs import driver_rigs

pytestmark = pytest.mark.timeout(30)


Rig = Callable[..., tuple[MtSicsEmulator, MtSicsScale]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(DEFAULT_CELL, settle_s=0.0)


@pytest.fixture
def rig() -> Iterator[Rig]:
    """Make an emulator and an open scale on it; both are closed afterwards."""
    with driver_rigs() as opened:

        def make(
            *, command: str = "SI", timeout_s: float = 1.0, **emulator: Any
        ) -> tuple[MtSicsEmulator, MtSicsScale]:
            emu = MtSicsEmulator(**{"cell": CELL, **emulator})
            emu.start()
            config = MtSicsConfig(
                type="mtsics", port=emu.port, command=command, timeout_s=timeout_s
            )
            scale = MtSicsScale(config)
            return opened(emu, scale)

        yield make


def test_command_s_waits_for_a_stable_weight(rig: Rig) -> None:
    emu, scale = rig(command="S", cell=replace(CELL, settle_s=0.2), stable_timeout_s=1.0)
    emu.set_load(42.5)
    assert scale.read_weight() == WeightSample(grams=42.5, stable=True)


def test_busy_when_no_stable_weight_in_time(rig: Rig) -> None:
    emu, scale = rig(command="S", cell=replace(CELL, settle_s=30.0), stable_timeout_s=0.1)
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
    emu, scale = rig(cell=replace(CELL, settle_s=30.0), stable_timeout_s=0.05)
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


def test_unknown_command_answers_es(rig: Rig) -> None:
    _, scale = rig()
    assert scale.query("XYZ") == ErrorReply(ErrorCode.SYNTAX)
    with pytest.raises(ValueError, match="upper-case"):
        scale.query("si")


def test_late_reply_to_an_earlier_command_is_skipped(rig: Rig) -> None:
    # T waits for stability (0.9 s) longer than the driver waits (0.6 s); the
    # late `T S` arrives after the next command was sent (0.6 s) and before
    # that command's deadline (1.2 s), and must be skipped.
    emu, scale = rig(cell=replace(CELL, settle_s=0.9), stable_timeout_s=2.0, timeout_s=0.6)
    emu.set_load(200.0)
    with pytest.raises(DeviceUnavailable):
        scale.tare()
    sample = scale.read_weight()
    assert scale.stats.stale == 1
    assert sample == WeightSample(grams=0.0, stable=True)  # the late tare did happen


# -- configuration (sample.toml: test_driver_sample_config.py) ----------------


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
