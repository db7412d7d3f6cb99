"""The Chafon emulator answers raw binary commands over its pty, read with plain pyserial."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import serial

from firmware_sim.chafon_reader import ChafonEmulator, crc16, response_frame
from tests.firmware_sim.links import serial_links

pytestmark = pytest.mark.timeout(30)

# Host command frames as published in other projects' code (Len Adr Cmd CRC).
INVENTORY = bytes.fromhex("04FF011BB4")
INFO = bytes.fromhex("04FF211995")
EPC = bytes.fromhex("3074257BF7194E4000001A85")

Link = Callable[..., tuple[ChafonEmulator, serial.Serial]]


@pytest.fixture
def link() -> Iterator[Link]:
    """A started emulator and a raw pyserial port on it."""
    with serial_links(ChafonEmulator, baudrate=57600, timeout=0.3) as make:
        yield make


def command(adr: int, cmd: int, data: bytes = b"") -> bytes:
    body = bytes([len(data) + 4, adr, cmd]) + data
    return body + crc16(body).to_bytes(2, "little")


def read_frame(port: serial.Serial) -> bytes:
    head = port.read(1)
    if not head:
        return b""
    return head + port.read(head[0])


def ask(port: serial.Serial, frame: bytes) -> bytes:
    port.write(frame)
    return read_frame(port)


def test_crc_check_value_and_published_commands() -> None:
    assert crc16(b"123456789") == 0x6F91
    assert command(0xFF, 0x01) == INVENTORY
    assert command(0xFF, 0x21) == INFO
    assert command(0x00, 0x21) == bytes.fromhex("040021D96A")


def test_inventory_without_tags_answers_0xfb(link: Link) -> None:
    _, port = link()
    assert ask(port, INVENTORY) == bytes.fromhex("050001FBF23D")


def test_inventory_with_one_tag(link: Link) -> None:
    emu, port = link()
    emu.add_tag(EPC)
    assert ask(port, INVENTORY) == bytes.fromhex("13000101010C3074257BF7194E4000001A859382")


def test_many_tags_come_in_frames_with_status_0x03(link: Link) -> None:
    emu, port = link(tags_per_frame=2)
    epcs = [bytes([0x30, i]) + bytes(10) for i in range(5)]
    for e in epcs:
        emu.add_tag(e)
    frames = [ask(port, INVENTORY)] + [read_frame(port) for _ in range(2)]
    assert [f[3] for f in frames] == [0x03, 0x03, 0x01]
    got = []
    for f in frames:
        assert int.from_bytes(f[-2:], "little") == crc16(f[:-2])
        data = f[4:-2]
        pos = 1
        for _ in range(data[0]):
            got.append(data[pos + 1 : pos + 1 + data[pos]])
            pos += 1 + data[pos]
    assert got == epcs
    assert read_frame(port) == b""


def test_frames_hold_as_many_tags_as_fit(link: Link) -> None:
    emu, port = link()
    for i in range(20):
        emu.add_tag(bytes([0x30, i]) + bytes(10))
    first = ask(port, INVENTORY)
    assert (first[0], first[3], first[4]) == (5 + 1 + 19 * 13, 0x03, 19)
    last = read_frame(port)
    assert (last[3], last[4]) == (0x01, 1)


def test_remove_tag(link: Link) -> None:
    emu, port = link()
    emu.add_tag(EPC.hex())
    emu.remove_tag(EPC)
    assert emu.tags == []
    assert ask(port, INVENTORY)[3] == 0xFB


def test_reader_info_and_settings(link: Link) -> None:
    emu, port = link(version=(2, 7), reader_type=0x08)
    assert ask(port, INFO) == response_frame(0, 0x21, 0, bytes([2, 7, 8, 3, 0x31, 0, 30, 10]))
    assert ask(port, command(0xFF, 0x2F, b"\x14"))[3] == 0x00
    assert ask(port, command(0xFF, 0x25, b"\x05"))[3] == 0x00
    assert (emu.power_dbm, emu.scan_time_ds) == (20, 5)
    assert ask(port, INFO)[-4:-2] == bytes([20, 5])
    assert emu.commands_received == [0x21, 0x2F, 0x25, 0x21]


@pytest.mark.parametrize(
    "frame",
    [
        command(0xFF, 0x2F, b"\x1f"),  # 31 dBm
        command(0xFF, 0x2F, b""),
        command(0xFF, 0x25, b"\x02"),  # below 300 ms
        command(0xFF, 0x25, b"\x0a\x0b"),
    ],
)
def test_bad_parameters_answer_0xff(link: Link, frame: bytes) -> None:
    emu, port = link()
    assert ask(port, frame)[3] == 0xFF
    assert (emu.power_dbm, emu.scan_time_ds) == (30, 10)


def test_unknown_command_and_bad_crc_answer_0xfe(link: Link) -> None:
    _, port = link()
    assert ask(port, command(0xFF, 0x77)) == response_frame(0, 0x77, 0xFE)
    assert ask(port, INVENTORY[:-1] + b"\x00") == response_frame(0, 0x01, 0xFE)


def test_address(link: Link) -> None:
    _, port = link(address=0x05)
    assert ask(port, command(0x05, 0x01))[1] == 0x05
    assert ask(port, command(0xFF, 0x01))[1] == 0x05  # broadcast
    port.timeout = 0.1
    assert ask(port, command(0x06, 0x01)) == b""  # someone else's


def test_noise_from_the_host_is_skipped(link: Link) -> None:
    _, port = link()
    port.write(b"\x00\x01\x02")  # Len bytes too small for any command
    assert ask(port, INVENTORY)[3] == 0xFB


def test_stale_partial_command_is_dropped(link: Link) -> None:
    _, port = link()
    port.write(INVENTORY[:3])
    time.sleep(0.3)  # longer than a command may pause
    assert ask(port, INFO)[2] == 0x21


def test_inventory_error_and_slow_inventory(link: Link) -> None:
    emu, port = link(inventory_error=0xFA)
    assert ask(port, INVENTORY) == response_frame(0, 0x01, 0xFA)
    emu.inventory_error = None
    emu.inventory_time_s = 0.15
    started = time.monotonic()
    assert ask(port, INVENTORY)[3] == 0xFB
    assert time.monotonic() - started >= 0.1


def test_faults(link: Link) -> None:
    emu, port = link(bad_crc_probability=1.0)
    frame = ask(port, INVENTORY)
    assert frame[:4] == bytes.fromhex("050001FB")
    assert int.from_bytes(frame[-2:], "little") != crc16(frame[:-2])
    assert emu.frames_sent == 0
    emu.bad_crc_probability = 0.0
    emu.garbage_probability = 1.0
    port.timeout = 0.1
    port.write(INVENTORY)
    data = port.read(64)
    assert data.endswith(bytes.fromhex("050001FBF23D"))
    assert len(data) > 6
    emu.garbage_probability = 0.0
    emu.drop_probability = 1.0
    assert ask(port, INVENTORY) == b""
    assert emu.frames_sent == 1


def test_fail_and_recover(link: Link) -> None:
    emu, port = link()
    emu.fail()
    port.timeout = 0.1
    assert ask(port, INVENTORY) == b""
    emu.recover()
    assert ask(port, INVENTORY)[3] == 0xFB


@pytest.mark.parametrize(
    ("knob", "message"),
    [
        ({"bad_crc_probability": 1.5}, "bad_crc_probability"),
        ({"drop_probability": -0.1}, "drop_probability"),
        ({"address": 0xFF}, "0 to 254"),
        ({"tags_per_frame": 0}, "tags_per_frame"),
    ],
)
def test_bad_knobs_are_rejected(knob: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChafonEmulator(**knob)


def test_bad_epcs_are_rejected() -> None:
    emu = ChafonEmulator()
    try:
        with pytest.raises(ValueError, match="1 to 62 bytes"):
            emu.add_tag(b"")
        with pytest.raises(ValueError, match="1 to 62 bytes"):
            emu.add_tag(bytes(63))
    finally:
        emu.stop()
