"""The OpenScale emulator over its pty, read with plain pyserial."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import serial

from firmware_sim.openscale_board import BOARD_CELL, OpenScaleEmulator
from tests.firmware_sim.creep import Reading, assert_creeps
from tests.firmware_sim.links import serial_links

pytestmark = pytest.mark.timeout(30)

BANNER = [
    b"\r\n",
    b"Serial Load Cell Converter version 1.2\r\n",
    b"By SparkFun Electronics\r\n",
    b"No remote sensor found\r\n",
    b"Minimum time between reports: 20\r\n",
    b"Press x to bring up settings\r\n",
    b"Readings:\r\n",
]

Link = Callable[..., tuple[OpenScaleEmulator, serial.Serial]]

#: The emulator's cell, settled at once unless a test says otherwise.
CELL = replace(BOARD_CELL, settle_s=0.0)


@pytest.fixture
def link() -> Iterator[Link]:
    """An emulator (reporting every 20 ms) and a raw pyserial port opened before it
    starts, so the banner is read too. `load_g` is on the board at power-up."""

    def board(load_g: float = 0.0, **knobs: Any) -> OpenScaleEmulator:
        emu = OpenScaleEmulator(**{"cell": CELL, "report_interval_s": 0.02, **knobs})
        emu.set_load(load_g)
        return emu

    with serial_links(board, port_first=True) as make:
        yield make


def lines(port: serial.Serial, count: int) -> list[bytes]:
    return [port.read_until(b"\r\n") for _ in range(count)]


def skip_banner(port: serial.Serial) -> None:
    while port.read_until(b"\r\n") != b"Readings:\r\n":
        pass


def test_banner_then_reports_with_the_firmware_defaults(link: Link) -> None:
    emu, port = link(load_g=453.59237)
    assert lines(port, 7) == BANNER
    first, second = lines(port, 2)
    millis, weight, unit, local, remote, end = first.split(b",")
    assert (weight, unit, local, remote, end) == (b"1.00", b"lbs", b"23.50", b"0", b"\r\n")
    assert int(second.split(b",")[0]) > int(millis)
    assert emu.reported_stable[:2] == pytest.approx([453.59237, 453.59237])


def test_fields_follow_the_settings(link: Link) -> None:
    emu, port = link(
        load_g=250.0,
        unit="kg",
        decimals=3,
        timestamp=False,
        raw_reading=True,
        remote_sensor=True,
    )
    skip_banner(port)
    assert port.read_until(b"\r\n") == b"0.250,kg,94500,23.500,18.250,\r\n"
    emu.local_temp = emu.remote_temp = emu.raw_reading = False
    port.reset_input_buffer()
    port.read_until(b"\r\n")
    assert port.read_until(b"\r\n") == b"0.250,kg,\r\n"


def test_remote_sensor_changes_the_banner(link: Link) -> None:
    _, port = link(remote_sensor=True, firmware_version="1.0")
    banner = lines(port, 4)
    assert banner[1] == b"Serial Load Cell Converter version 1.0\r\n"
    assert banner[3] == b"Remote temperature sensor detected\r\n"


def test_readings_wander_while_settling_and_saturate_at_capacity(link: Link) -> None:
    emu, port = link(
        load_g=500.0,
        unit="kg",
        decimals=3,
        cell=replace(CELL, settle_s=30.0, dynamic_noise_g=50.0, capacity_g=1000.0),
    )
    skip_banner(port)
    weights = [float(line.split(b",")[1]) * 1000 for line in lines(port, 8)]
    assert all(450.0 <= w <= 550.0 for w in weights)
    assert len(set(weights)) > 1
    emu.cell = replace(emu.cell, settle_s=0.0)
    emu.set_load(3000.0)
    port.reset_input_buffer()
    port.read_until(b"\r\n")
    assert port.read_until(b"\r\n").split(b",")[1] == b"1.000"


def test_tiny_negative_weights_print_as_minus_zero(link: Link) -> None:
    _, port = link(load_g=-1.0, unit="kg", decimals=2)
    skip_banner(port)
    assert port.read_until(b"\r\n").split(b",")[1] == b"-0.00"


def test_uncalibrated_board_prints_inf(link: Link) -> None:
    emu, port = link()
    skip_banner(port)
    emu.uncalibrated = True
    port.reset_input_buffer()
    port.read_until(b"\r\n")  # may have been printed before the switch
    assert port.read_until(b"\r\n").split(b",")[1] == b"inf"
    logged = len(emu.reported_stable)
    assert port.read_until(b"\r\n").split(b",")[1] == b"inf"
    assert len(emu.reported_stable) == logged  # no weight, nothing logged


def test_menu_stops_reports_tares_and_exits(link: Link) -> None:
    emu, port = link(load_g=120.0, unit="kg", decimals=3)
    skip_banner(port)
    port.write(b"q")  # outside the menu: read and ignored
    port.write(b"x")
    port.timeout = 0.1
    menu = port.read(4096)
    assert b"System Configuration\r\n1) Tare scale to zero [" in menu
    assert menu.endswith(b"x) Exit\r\n>")
    assert emu.in_menu
    assert port.read(64) == b""  # no reports while the menu is open
    port.write(b"1")
    tared = port.read(4096)
    assert tared.startswith(b"\n\rTare point 1: 84000\r\n\n\rTare point 2: 84000\r\n")
    assert emu.tare_g == 120.0
    port.write(b"x")
    port.timeout = 1.0
    assert port.read_until(b"\r\n") == b"Exiting\r\n"
    assert port.read_until(b"\r\n").split(b",")[1] == b"0.000"
    assert emu.characters_received == 4


def test_restart_is_silent_while_booting_then_prints_the_banner(link: Link) -> None:
    emu, port = link(boot_s=0.1)
    lines(port, 7)
    emu.restart()
    time.sleep(0.02)
    port.reset_input_buffer()
    port.timeout = 0.05
    assert port.read(64) == b""
    port.timeout = 1.0
    assert lines(port, 7) == BANNER
    millis = int(port.read_until(b"\r\n").split(b",")[0])
    assert 100 <= millis < 300  # counted from the reset, boot included


def test_reports_at_a_bounded_rate(link: Link) -> None:
    _, port = link()
    skip_banner(port)
    started = time.monotonic()
    lines(port, 10)
    assert 0.12 <= time.monotonic() - started < 1.0  # about 20 ms apart, never a burst


def test_line_time_splits_lines(link: Link) -> None:
    _, port = link(line_time_s=0.05, report_interval_s=0.2, timestamp=False)
    skip_banner(port)
    port.timeout = 0.02
    first = port.read(64)
    port.timeout = 1.0
    rest = port.read_until(b"\r\n")
    assert first == b"0.00,lbs,"  # half a line, then the rest later
    assert first + rest == b"0.00,lbs,23.50,0,\r\n"


def test_garbage_drop_fail_and_recover(link: Link) -> None:
    emu, port = link(garbage_probability=1.0)
    skip_banner(port)
    bad = port.read_until(b"\r\n")
    assert bad[0] >= 0x80
    assert bad.count(b"\n") == 1
    assert emu.reported_stable == []
    emu.garbage_probability = 0.0
    emu.drop_probability = 1.0
    port.reset_input_buffer()
    port.timeout = 0.1
    assert port.read(64) == b""
    emu.drop_probability = 0.0
    emu.fail()
    port.reset_input_buffer()
    assert port.read(64) == b""
    emu.recover()
    port.timeout = 1.0
    assert port.read_until(b"\r\n").endswith(b",lbs,23.50,0,\r\n")


def test_drift_creeps_while_settled_and_restarts_on_set_load(link: Link) -> None:
    emu, port = link(unit="kg", decimals=4, timestamp=False, local_temp=False, remote_temp=False)
    skip_banner(port)
    emu.cell = replace(emu.cell, drift_g_per_s=20.0)

    def read() -> Reading:
        port.reset_input_buffer()
        port.read_until(b"\r\n")  # may have been printed before the flush
        # No stability flag: settled means no wandering by dynamic_noise_g (20 g).
        return True, float(port.read_until(b"\r\n").split(b",")[0]) * 1000.0

    shown = assert_creeps(emu, read, rate_g_per_s=20.0, resolution_g=0.1)
    assert set(shown) <= set(emu.reported_stable)


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"garbage_probability": 1.5}, "garbage_probability"),
        ({"drop_probability": -0.1}, "drop_probability"),
        ({"report_interval_s": 0.001}, "report_interval_s"),
        ({"line_time_s": 1.0}, "line_time_s"),
        ({"boot_s": -1.0}, "boot_s"),
        ({"unit": "g"}, "unit"),
        ({"decimals": 5}, "decimals"),
    ],
)
def test_bad_knobs_are_rejected(knobs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpenScaleEmulator(**knobs)
