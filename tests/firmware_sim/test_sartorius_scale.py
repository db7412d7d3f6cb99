"""The Sartorius SBI emulator over its pty, read with plain pyserial."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import serial

from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.sartorius_scale import SartoriusEmulator
from tests.firmware_sim.creep import Reading, assert_creeps
from tests.firmware_sim.links import serial_links

pytestmark = pytest.mark.timeout(30)

ESC = b"\x1b"

Link = Callable[..., tuple[SartoriusEmulator, serial.Serial]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(DEFAULT_CELL, settle_s=0.0)


@pytest.fixture
def link() -> Iterator[Link]:
    """A started emulator and a raw pyserial port on it."""
    with serial_links(lambda **knobs: SartoriusEmulator(**{"cell": CELL, **knobs})) as make:
        yield make


def ask(port: serial.Serial, letter: bytes = b"P", end: bytes = b"\r\n") -> bytes:
    port.write(ESC + letter + end)
    return port.read_until(b"\r\n")


def wait_for_commands(emu: SartoriusEmulator, count: int) -> None:
    deadline = time.monotonic() + 2.0
    while emu.commands_received < count:
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_print_sends_a_16_character_frame(link: Link) -> None:
    emu, port = link()
    emu.set_load(123.45)
    assert ask(port) == b"+   123.45 g  \r\n"
    emu.set_load(-3.0)
    assert ask(port, end=b"") == b"-     3.00 g  \r\n"  # CR LF after a command is optional
    emu.set_load(0.0)
    assert ask(port) == b"      0.00 g  \r\n"  # no sign for zero
    assert emu.reported_stable == [123.45, -3.0, 0.0]


def test_id_codes_make_22_character_frames(link: Link) -> None:
    emu, port = link(id_codes=True, cell=replace(CELL, capacity_g=100.0))
    emu.set_load(12.5)
    assert ask(port) == b"N     +    12.50 g  \r\n"
    emu.set_load(150.0)
    assert ask(port) == b"Stat        H       \r\n"


def test_kilograms_and_wide_values(link: Link) -> None:
    emu, port = link(unit="kg", cell=replace(CELL, capacity_g=200_000.0))
    emu.set_load(1234.5)
    assert ask(port) == b"+  1.23450 kg \r\n"
    emu.set_load(123456.78)
    assert ask(port) == b"+123.45678 kg \r\n"  # a 9-character value takes column 2
    assert emu.reported_stable == pytest.approx([1234.5, 123456.78])


def test_unstable_frames_have_a_blank_unit(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=30.0, dynamic_noise_g=0.5))
    emu.set_load(250.0)
    reply = ask(port)
    assert len(reply) == 16
    assert reply[11:] == b"   \r\n"
    assert abs(float(reply[1:11]) - 250.0) <= 0.5
    assert emu.reported_stable == []


def test_overload_underload_calibration_and_errors(link: Link) -> None:
    emu, port = link(cell=replace(CELL, capacity_g=1000.0, underload_g=10.0))
    emu.set_load(1000.01)
    assert ask(port) == b"      H       \r\n"
    emu.set_load(-10.5)
    assert ask(port) == b"      L       \r\n"
    emu.set_load(5.0)
    emu.set_calibrating(True)
    assert ask(port) == b"      C       \r\n"
    emu.set_calibrating(False)
    emu.set_error(7)
    assert ask(port) == b"   Err 007    \r\n"
    emu.set_error(None)
    assert ask(port) == b"+     5.00 g  \r\n"
    with pytest.raises(ValueError, match="error code"):
        emu.set_error(1000)


def test_tare_and_zero_commands(link: Link) -> None:
    emu, port = link(zero_range_g=10.0)
    emu.set_load(250.0)
    port.write(ESC + b"U\r\n")
    assert ask(port) == b"      0.00 g  \r\n"
    assert emu.tare_g == 250.0
    emu.set_load(262.5)
    assert ask(port) == b"+    12.50 g  \r\n"
    port.write(ESC + b"V")  # 262.5 g from zero: outside the zero range, ignored
    assert ask(port) == b"+    12.50 g  \r\n"
    emu.set_load(3.0)
    port.write(ESC + b"V")  # 3 g from zero: zeroes and clears the tare
    assert ask(port) == b"      0.00 g  \r\n"
    assert emu.tare_g == 0.0


def test_tare_key_zeroes_near_zero_and_tares_otherwise(link: Link) -> None:
    emu, port = link(zero_range_g=10.0)
    emu.set_load(4.0)
    port.write(ESC + b"T")
    assert ask(port) == b"      0.00 g  \r\n"
    assert emu.tare_g == 0.0
    emu.set_load(104.0)
    port.write(ESC + b"T")
    assert ask(port) == b"      0.00 g  \r\n"
    assert emu.tare_g == 100.0


def test_display_is_blank_while_taring(link: Link) -> None:
    emu, port = link(taring_s=0.2, id_codes=True)
    emu.set_load(50.0)
    port.write(ESC + b"U")
    assert ask(port) == b"Stat                \r\n"
    time.sleep(0.2)
    assert ask(port) == b"N           0.00 g  \r\n"


def test_unknown_commands_and_stray_bytes_are_ignored(link: Link) -> None:
    emu, port = link()
    emu.set_load(1.0)
    port.write(b"hello\r\n" + ESC + b"Q" + ESC + b"x1_\r\n")
    assert ask(port) == b"+     1.00 g  \r\n"
    wait_for_commands(emu, 3)


def test_auto_print_streams_at_the_configured_rate(link: Link) -> None:
    emu, port = link(auto_print=True, print_interval_s=0.02)
    emu.set_load(7.0)
    port.reset_input_buffer()
    started = time.monotonic()
    lines = [port.read_until(b"\r\n") for _ in range(10)]
    elapsed = time.monotonic() - started
    assert lines[-1] == b"+     7.00 g  \r\n"
    assert 0.1 <= elapsed < 1.0  # about 20 ms apart, never a burst
    emu.auto_print = False
    time.sleep(0.05)
    port.reset_input_buffer()
    port.timeout = 0.1
    assert port.read(1) == b""


def test_line_time_splits_frames(link: Link) -> None:
    _, port = link(line_time_s=0.05)
    port.write(ESC + b"P")
    port.timeout = 0.02
    first = port.read(16)
    port.timeout = 1.0
    rest = port.read_until(b"\r\n")
    assert first == b"      0."  # half a frame, then the rest later
    assert first + rest == b"      0.00 g  \r\n"


def test_drift_creeps_while_stable_and_restarts_on_set_load(link: Link) -> None:
    emu, port = link(cell=replace(CELL, drift_g_per_s=20.0))

    def read() -> Reading:
        frame = ask(port)
        return frame[11:] == b"g  \r\n", float(frame[:11].replace(b" ", b""))

    shown = assert_creeps(emu, read, rate_g_per_s=20.0, resolution_g=0.01)
    assert emu.reported_stable == pytest.approx(shown)


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"garbage_probability": 1.5}, "garbage_probability"),
        ({"drop_probability": -0.1}, "drop_probability"),
        ({"print_interval_s": 0.001}, "print_interval_s"),
        ({"line_time_s": 1.0}, "line_time_s"),
        ({"unit": "lb"}, "unit"),
    ],
)
def test_bad_knobs_are_rejected(knobs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SartoriusEmulator(**knobs)
