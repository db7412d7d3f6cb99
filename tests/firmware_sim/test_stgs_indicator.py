"""The ST,GS emulator streams and answers raw commands over its pty, read with plain pyserial."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import serial

from firmware_sim.stgs_indicator import INDICATOR_CELL, StGsEmulator
from tests.firmware_sim.creep import Reading, assert_creeps
from tests.firmware_sim.links import ask, fresh, serial_links

pytestmark = pytest.mark.timeout(30)

Link = Callable[..., tuple[StGsEmulator, serial.Serial]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(INDICATOR_CELL, settle_s=0.0)


@pytest.fixture
def link() -> Iterator[Link]:
    """A started emulator (request mode unless told) and a raw pyserial port on it."""
    with serial_links(
        lambda **knobs: StGsEmulator(**{"mode": "request", "cell": CELL, "rate_hz": 50.0, **knobs})
    ) as make:
        yield make


def test_read_answers_the_standard_string(link: Link) -> None:
    emu, port = link()
    emu.set_load(1250.0)
    port.timeout = 0.1
    assert port.read(1) == b""  # request mode: silent until asked
    port.timeout = 1.0
    assert ask(port, b"READ") == b"ST,GS,   1.250,kg\r\n"
    emu.set_load(-120.4)
    assert ask(port, b"READ") == b"ST,GS,  -0.120,kg\r\n"
    emu.set_load(-0.1)
    assert ask(port, b"READ") == b"ST,GS,   0.000,kg\r\n"  # never -0.000
    assert emu.reported_stable == [1250.0, -120.0, 0.0]


def test_unstable_while_settling(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=30.0, dynamic_noise_g=4.0))
    emu.set_load(2000.0)
    reply = ask(port, b"READ")
    assert reply.startswith(b"US,GS,")
    assert abs(float(reply.split(b",")[2]) - 2.0) <= 0.004
    assert emu.reported_stable == []


def test_stream_mode_sends_at_the_rate(link: Link) -> None:
    emu, port = link(mode="stream")
    emu.set_load(5.0)
    assert fresh(port) == b"ST,GS,   0.005,kg\r\n"
    port.reset_input_buffer()
    time.sleep(0.2)
    frames = port.read(port.in_waiting).count(b"\r\n")
    assert 3 <= frames <= 14  # about 10 at 50 frames/s; never a burst


def test_tare_makes_weights_net_and_zero_clears_it(link: Link) -> None:
    emu, port = link()
    emu.set_load(1200.0)
    assert ask(port, b"TARE") == b"OK\r\n"
    assert emu.tare_g == 1200.0
    emu.set_load(1450.0)
    assert ask(port, b"READ") == b"ST,NT,   0.250,kg\r\n"
    assert ask(port, b"ZERO") == b"OK\r\n"
    assert emu.tare_g == 0.0
    assert ask(port, b"READ") == b"ST,GS,   0.000,kg\r\n"
    assert ask(port, b"T") == b"OK\r\n"  # short forms
    assert ask(port, b"Z") == b"OK\r\n"


def test_tare_and_zero_refused_while_unstable_or_out_of_range(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=30.0, capacity_g=1000.0))
    emu.set_load(500.0)
    assert ask(port, b"TARE") == b"ERR03\r\n"
    assert ask(port, b"ZERO") == b"ERR03\r\n"
    emu.cell = replace(emu.cell, settle_s=0.0)
    emu.set_load(2000.0)
    assert ask(port, b"TARE") == b"ERR03\r\n"
    assert emu.tare_g == 0.0


def test_statuses(link: Link) -> None:
    emu, port = link(cell=replace(CELL, capacity_g=1000.0, underload_g=100.0))
    emu.set_load(1000.5)
    assert ask(port, b"READ") == b"OL,GS,   1.000,kg\r\n"
    emu.set_load(-101.0)
    assert ask(port, b"READ") == b"UL,GS,  -0.101,kg\r\n"
    emu.set_load(10.0)
    emu.not_level = True
    assert ask(port, b"READ") == b"TL,GS,   0.010,kg\r\n"
    assert emu.reported_stable == []


def test_raw_display_modes(link: Link) -> None:
    emu, port = link()
    emu.set_load(100.0)
    emu.display = "VL"
    assert ask(port, b"READ") == b"ST,VL,      50,uV\r\n"
    emu.display = "RZ"
    assert ask(port, b"READ") == b"ST,RZ,    2000,  \r\n"


def test_unknown_misspelt_and_corrupt_commands(link: Link) -> None:
    _, port = link()
    assert ask(port, b"PRINT") == b"ERR04\r\n"
    assert ask(port, b"READF") == b"ERR01\r\n"
    assert ask(port, b"RE\xffAD") == b"ERR02\r\n"
    assert ask(port, b"READ").startswith(b"ST,GS,")  # still answering


def test_rs485_address(link: Link) -> None:
    emu, port = link(address="01")
    emu.set_load(1.0)
    assert ask(port, b"01READ") == b"01ST,GS,   0.001,kg\r\n"
    assert ask(port, b"01TARE") == b"01OK\r\n"
    assert ask(port, b"01FOO") == b"01ERR04\r\n"
    port.timeout = 0.1
    for other in (b"READ", b"02READ", b"RE\xffAD"):
        assert ask(port, other) == b""  # not for us: a bus device keeps quiet
    assert emu.lines_received == 6


def test_neighbours_talk_on_the_bus(link: Link) -> None:
    emu, port = link(address="01", neighbours={"02": 9000.0, "07": 15000.0})
    emu.set_load(4321.0)
    port.write(b"01READ\r\n")
    lines = [port.read_until(b"\r\n") for _ in range(3)]
    assert lines == [
        b"02ST,GS,   9.000,kg\r\n",
        b"07ST,GS,  15.000,kg\r\n",
        b"01ST,GS,   4.321,kg\r\n",
    ]
    assert ask(port, b"07READ") == b"07ST,GS,  15.000,kg\r\n"  # the neighbour answers


def test_stream_with_commands_off(link: Link) -> None:
    emu, port = link(mode="stream", commands_in_stream=False)
    emu.set_load(1200.0)
    port.write(b"TARE\r\n")
    time.sleep(0.05)
    assert emu.tare_g == 0.0
    assert fresh(port) == b"ST,GS,   1.200,kg\r\n"
    emu.commands_in_stream = True
    port.write(b"TARE\r\n")
    lines = [port.read_until(b"\r\n") for _ in range(10)]
    assert b"OK\r\n" in lines
    assert emu.tare_g == 1200.0


def test_drift_creeps_while_stable_and_restarts_on_set_load(link: Link) -> None:
    emu, port = link(cell=replace(CELL, drift_g_per_s=50.0))

    def read() -> Reading:
        frame = ask(port, b"READ")
        return frame.startswith(b"ST,"), float(frame.split(b",")[2]) * 1000.0

    shown = assert_creeps(emu, read, rate_g_per_s=50.0, resolution_g=1.0, load_g=1000.0)
    assert emu.reported_stable == pytest.approx(shown)


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"garbage_probability": 2.0}, "garbage_probability"),
        ({"drop_probability": -1.0}, "drop_probability"),
        ({"rate_hz": 0}, "rate_hz"),
        ({"rate_hz": 101}, "rate_hz"),
        ({"address": "1"}, "two ASCII letters or digits"),
        ({"neighbours": {"0X1": 1.0}}, "two ASCII letters or digits"),
        ({"address": "01", "neighbours": {"01": 1.0}}, "also a neighbour's"),
    ],
)
def test_bad_knobs_are_rejected(knobs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StGsEmulator(**knobs)
