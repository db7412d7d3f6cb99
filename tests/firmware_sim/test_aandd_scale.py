"""The A&D emulator streams and answers raw commands over its pty, read with plain pyserial."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import serial

from firmware_sim.aandd_scale import AandDEmulator
from firmware_sim.load_cell import DEFAULT_CELL
from tests.firmware_sim.creep import Reading, assert_creeps
from tests.firmware_sim.links import ask, fresh, serial_links

pytestmark = pytest.mark.timeout(30)

AK = b"\x06\r\n"

Link = Callable[..., tuple[AandDEmulator, serial.Serial]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(DEFAULT_CELL, settle_s=0.0)


@pytest.fixture
def link() -> Iterator[Link]:
    """A started emulator (request mode unless told) and a raw pyserial port on it."""
    with serial_links(
        lambda **knobs: AandDEmulator(**{"mode": "request", "cell": CELL, "rate_hz": 50.0, **knobs})
    ) as make:
        yield make


def test_request_mode_is_silent_until_asked(link: Link) -> None:
    emu, port = link()
    emu.set_load(123.45)
    port.timeout = 0.1
    assert port.read(1) == b""
    port.timeout = 1.0
    assert ask(port, b"Q") == b"ST,+00123.45  g\r\n"
    assert ask(port, b"SI") == b"ST,+00123.45  g\r\n"
    assert emu.reported_stable == [123.45, 123.45]


def test_value_is_signed_and_nine_characters(link: Link) -> None:
    emu, port = link()
    emu.set_load(-12.345)
    assert ask(port, b"Q") == b"ST,-00012.35  g\r\n"
    emu.set_load(-0.001)
    assert ask(port, b"Q") == b"ST,+00000.00  g\r\n"  # never -00000.00
    emu.set_load(6199.99)
    assert ask(port, b"Q") == b"ST,+06199.99  g\r\n"


def test_kilograms(link: Link) -> None:
    emu, port = link(unit="kg")
    emu.set_load(1234.5)
    assert ask(port, b"Q") == b"ST,+01.23450 kg\r\n"
    assert emu.reported_stable == [1234.5]


def test_unstable_while_settling(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=30.0, dynamic_noise_g=0.5))
    emu.set_load(250.0)
    reply = ask(port, b"Q")
    assert reply.startswith(b"US,+00")
    assert reply.endswith(b"  g\r\n")
    assert abs(float(reply[3:12]) - 250.0) <= 0.5
    assert emu.reported_stable == []


def test_out_of_range(link: Link) -> None:
    emu, port = link(cell=replace(CELL, capacity_g=1000.0, underload_g=10.0))
    emu.set_load(1000.01)
    assert ask(port, b"Q") == b"OL,+999999.9  g\r\n"
    emu.set_load(-10.5)
    assert ask(port, b"Q") == b"OL,-999999.9  g\r\n"


def test_counting_mode(link: Link) -> None:
    emu, port = link()
    emu.set_load(100.0)
    emu.piece_weight_g = 2.0
    assert ask(port, b"Q") == b"QT,+00000050 PC\r\n"
    emu.cell = replace(emu.cell, settle_s=30.0)
    emu.set_load(102.0)
    assert ask(port, b"Q").startswith(b"US,+000000")


def test_stream_mode_sends_at_the_rate(link: Link) -> None:
    emu, port = link(mode="stream", rate_hz=50.0)
    emu.set_load(5.0)
    assert fresh(port) == b"ST,+00005.00  g\r\n"
    before = emu.frames_sent
    time.sleep(0.2)
    sent = emu.frames_sent - before
    assert 3 <= sent <= 14  # about 10 at 50 frames/s; never a burst


def test_sir_starts_and_c_stops_streaming(link: Link) -> None:
    emu, port = link()
    assert not emu.streaming
    port.write(b"SIR\r\n")
    assert port.read_until(b"\r\n") == b"ST,+00000.00  g\r\n"
    assert emu.streaming
    port.write(b"C\r\n")
    time.sleep(0.05)
    port.reset_input_buffer()
    port.timeout = 0.1
    assert port.read(1) == b""
    assert not emu.streaming


def test_s_waits_for_stability(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=0.2), stable_timeout_s=2.0)
    emu.set_load(75.0)
    started = time.monotonic()
    assert ask(port, b"S") == b"ST,+00075.00  g\r\n"
    assert time.monotonic() - started >= 0.1


def test_s_gives_up_with_e03_when_ak_is_on(link: Link) -> None:
    emu, port = link(cell=replace(CELL, settle_s=30.0), stable_timeout_s=0.1, acknowledge=True)
    emu.set_load(75.0)
    assert ask(port, b"S") == b"EC,E03\r\n"


def test_tare_and_rezero_with_ak(link: Link) -> None:
    emu, port = link(acknowledge=True)
    emu.set_load(250.0)
    port.write(b"T\r\n")
    assert [port.read_until(b"\r\n") for _ in range(2)] == [AK, AK]  # received, done
    assert emu.tare_g == 250.0
    emu.set_load(262.5)
    assert ask(port, b"Q") == b"ST,+00012.50  g\r\n"
    for command in (b"R", b"Z"):
        port.write(command + b"\r\n")
        assert [port.read_until(b"\r\n") for _ in range(2)] == [AK, AK]
    assert emu.tare_g == 0.0  # re-zero clears the tare
    assert ask(port, b"Q") == b"ST,+00000.00  g\r\n"


def test_tare_without_ak_says_nothing_but_tares(link: Link) -> None:
    emu, port = link()
    emu.set_load(40.0)
    port.write(b"T\r\n")
    assert ask(port, b"Q") == b"ST,+00000.00  g\r\n"
    assert emu.tare_g == 40.0


def test_tare_waits_for_stability_while_the_stream_goes_on(link: Link) -> None:
    emu, port = link(
        mode="stream", cell=replace(CELL, settle_s=0.15, dynamic_noise_g=0.0), stable_timeout_s=2.0
    )
    emu.set_load(40.0)
    port.write(b"T\r\n")
    lines = [port.read_until(b"\r\n") for _ in range(20)]  # 0.4 s of stream
    tared = lines.index(b"ST,+00000.00  g\r\n")
    assert any(line.startswith(b"US,") for line in lines[:tared])  # waited, streaming
    assert emu.tare_g == 40.0


def test_tare_refused_with_e11_when_unstable(link: Link) -> None:
    emu, port = link(acknowledge=True, cell=replace(CELL, settle_s=30.0), stable_timeout_s=0.1)
    emu.set_load(40.0)
    port.write(b"T\r\n")
    assert [port.read_until(b"\r\n") for _ in range(2)] == [AK, b"EC,E11\r\n"]
    assert emu.tare_g == 0.0


def test_unknown_and_corrupt_commands(link: Link) -> None:
    emu, port = link(acknowledge=True)
    assert ask(port, b"XYZ") == b"EC,E01\r\n"
    assert ask(port, b"q") == b"EC,E01\r\n"  # commands are case-sensitive
    assert ask(port, b"Q\xff") == b"EC,E00\r\n"
    emu.acknowledge = False
    port.timeout = 0.1
    assert ask(port, b"XYZ") == b""  # without "AK, error code" nothing is said
    port.timeout = 1.0
    assert ask(port, b"Q").startswith(b"ST,")
    assert emu.lines_received == 5


def test_fail_silences_the_stream_until_recover(link: Link) -> None:
    emu, port = link(mode="stream")
    emu.fail()
    assert emu.failed
    time.sleep(0.1)
    port.reset_input_buffer()
    port.timeout = 0.15
    assert port.read(1) == b""
    emu.recover()
    port.timeout = 1.0
    assert fresh(port) == b"ST,+00000.00  g\r\n"


def test_drift_creeps_while_stable_and_restarts_on_set_load(link: Link) -> None:
    emu, port = link(cell=replace(CELL, drift_g_per_s=20.0))

    def read() -> Reading:
        frame = ask(port, b"Q")
        return frame.startswith(b"ST,"), float(frame[3:12])

    shown = assert_creeps(emu, read, rate_g_per_s=20.0, resolution_g=0.01)
    assert emu.reported_stable == shown


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"garbage_probability": 1.5}, "garbage_probability"),
        ({"drop_probability": -0.1}, "drop_probability"),
        ({"rate_hz": 0}, "rate_hz"),
        ({"rate_hz": 1000}, "rate_hz"),
        ({"unit": "lb"}, "unit"),
        ({"stable_timeout_s": -1}, "stable_timeout_s"),
    ],
)
def test_bad_knobs_are_rejected(knobs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AandDEmulator(**knobs)
