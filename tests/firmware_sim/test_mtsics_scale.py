"""The MT-SICS emulator answers raw commands over its pty, read with plain pyserial."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
import serial

from firmware_sim.load_cell import DEFAULT_CELL
from firmware_sim.mtsics_scale import MtSicsEmulator
from tests.firmware_sim.creep import Reading, assert_creeps
from tests.firmware_sim.links import ask, serial_links

pytestmark = pytest.mark.timeout(30)

Link = Callable[..., tuple[MtSicsEmulator, serial.Serial]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(DEFAULT_CELL, settle_s=0.0)


@pytest.fixture
def link() -> Iterator[Link]:
    """A started emulator and a raw pyserial port on it."""
    with serial_links(lambda **knobs: MtSicsEmulator(**{"cell": CELL, **knobs})) as make:
        yield make


def test_si_stable_weight_is_right_aligned(link: Link) -> None:
    emu, port = link()
    emu.set_load(100.0)
    assert ask(port, b"SI") == b"S S     100.00 g\r\n"
    emu.set_load(-12.345)
    assert ask(port, b"SI") == b"S S     -12.35 g\r\n"
    assert emu.reported_stable == [100.0, -12.35]


def test_si_is_dynamic_while_settling(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=30.0, dynamic_noise_g=0.5))
    emu.set_load(250.0)
    reply = ask(port, b"SI")
    echo, status, value, unit = reply.split()
    assert (echo, status, unit) == (b"S", b"D", b"g")
    assert abs(float(value) - 250.0) <= 0.5
    assert emu.reported_stable == []


def test_s_waits_for_stability(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=0.2), stable_timeout_s=2.0)
    emu.set_load(75.0)
    started = time.monotonic()
    assert ask(port, b"S") == b"S S      75.00 g\r\n"
    assert time.monotonic() - started >= 0.1


def test_s_answers_busy_after_stability_timeout(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=30.0), stable_timeout_s=0.1)
    emu.set_load(75.0)
    assert ask(port, b"S") == b"S I\r\n"


def test_overload_and_underload(link: Link) -> None:
    emu, port = link(cell=replace(CELL, capacity_g=1000.0, underload_g=10.0))
    emu.set_load(1000.01)
    assert ask(port, b"SI") == b"S +\r\n"
    assert ask(port, b"S") == b"S +\r\n"
    emu.set_load(-10.5)
    assert ask(port, b"SI") == b"S -\r\n"
    emu.set_load(-9.5)
    assert ask(port, b"SI") == b"S S      -9.50 g\r\n"


def test_tare_then_weights_are_net(link: Link) -> None:
    emu, port = link()
    emu.set_load(250.0)
    assert ask(port, b"T") == b"T S     250.00 g\r\n"
    assert emu.tare_g == 250.0
    emu.set_load(262.5)
    assert ask(port, b"SI") == b"S S      12.50 g\r\n"
    emu.set_load(0.0)
    assert ask(port, b"SI") == b"S S    -250.00 g\r\n"  # net may go negative


def test_tare_immediate_while_unstable(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=30.0, dynamic_noise_g=0.0), stable_timeout_s=0.05)
    emu.set_load(40.0)
    assert ask(port, b"TI") == b"TI D      40.00 g\r\n"
    assert ask(port, b"T") == b"T I\r\n"  # T waits for stability, then gives up


def test_zero_and_zero_immediate(link: Link) -> None:
    emu, port = link()
    emu.set_load(5.0)
    assert ask(port, b"T") == b"T S       5.00 g\r\n"
    assert ask(port, b"Z") == b"Z A\r\n"
    assert emu.tare_g == 0.0  # zeroing clears the tare
    assert ask(port, b"SI") == b"S S       0.00 g\r\n"
    emu.cell = replace(emu.cell, settle_s=30.0)
    emu.set_load(6.0)
    assert ask(port, b"ZI") == b"ZI D\r\n"
    emu.cell = replace(emu.cell, settle_s=0.0)
    assert ask(port, b"ZI") == b"ZI S\r\n"


def test_identity_reset_and_command_list(link: Link) -> None:
    emu, port = link(serial_number="B123456789")
    emu.set_load(20.0)
    ask(port, b"T")
    assert ask(port, b"I4") == b'I4 A "B123456789"\r\n'
    assert emu.tare_g == 20.0
    assert ask(port, b"@") == b'I4 A "B123456789"\r\n'
    assert emu.tare_g == 0.0  # reset clears the tare
    port.write(b"I0\r\n")
    lines = [port.read_until(b"\r\n") for _ in range(9)]
    assert lines[0] == b'I0 B 0 "S"\r\n'
    assert lines[-1] == b'I0 A 0 "I0"\r\n'
    assert all(line.startswith(b"I0 B ") for line in lines[:-1])


def test_unknown_and_corrupt_commands(link: Link) -> None:
    _, port = link()
    assert ask(port, b"XYZ") == b"ES\r\n"
    assert ask(port, b"si") == b"ES\r\n"  # commands are case-sensitive
    assert ask(port, b"S\xffI") == b"ET\r\n"
    assert ask(port, b"SI").startswith(b"S S ")  # still answering


def test_accepts_bare_lf_and_ignores_blank_lines(link: Link) -> None:
    emu, port = link()
    emu.set_load(1.0)
    port.write(b"\r\n\r\nSI\n")
    assert port.read_until(b"\r\n") == b"S S       1.00 g\r\n"
    assert emu.commands_received == 3


def test_fail_and_recover(link: Link) -> None:
    emu, port = link()
    emu.fail()
    port.timeout = 0.2
    assert ask(port, b"SI") == b""
    emu.recover()
    port.timeout = 1.0
    assert ask(port, b"SI") == b"S S       0.00 g\r\n"


def test_drift_creeps_while_stable_and_restarts_on_set_load(link: Link) -> None:
    emu, port = link(cell=replace(CELL, drift_g_per_s=20.0))

    def read() -> Reading:
        _, status, value, _ = ask(port, b"SI").split()
        return status == b"S", float(value)

    shown = assert_creeps(emu, read, rate_g_per_s=20.0, resolution_g=0.01)
    assert emu.reported_stable == shown


def test_bad_knobs_are_rejected() -> None:
    with pytest.raises(ValueError, match="garbage_probability"):
        MtSicsEmulator(garbage_probability=1.5)
    with pytest.raises(ValueError, match="drop_probability"):
        MtSicsEmulator(drop_probability=-0.1)
