"""The RDM6300 emulator streams EM4100 frames over its pty, read with plain pyserial."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import serial

from firmware_sim.rdm6300_reader import Rdm6300Emulator, em4100_frame
from tests.firmware_sim.links import serial_links

pytestmark = pytest.mark.timeout(30)

TAG = "0F007F5DBA"
FRAME = b"\x020F007F5DBA97\x03"  # 0F^00^7F^5D^BA = 97

Link = Callable[..., tuple[Rdm6300Emulator, serial.Serial]]


@pytest.fixture
def link() -> Iterator[Link]:
    """A started emulator and a raw pyserial port on it."""
    with serial_links(
        lambda **knobs: Rdm6300Emulator(**{"interval_s": 0.02, **knobs}), timeout=0.05
    ) as make:
        yield make


def listen(port: serial.Serial, seconds: float) -> bytes:
    data = bytearray()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        data += port.read(256)
    return bytes(data)


def test_frame_layout() -> None:
    assert em4100_frame(TAG) == FRAME
    assert em4100_frame("0f007f5dba") == FRAME
    assert em4100_frame(TAG, checksum_error=0x01) == b"\x020F007F5DBA96\x03"
    with pytest.raises(ValueError, match="10 hex digits"):
        em4100_frame("0F007F5D")


def test_silent_without_a_tag(link: Link) -> None:
    _, port = link()
    assert listen(port, 0.1) == b""


def test_repeats_the_frame_while_the_tag_is_present(link: Link) -> None:
    emu, port = link()
    emu.add_tag(TAG)
    data = listen(port, 0.15)
    whole, rest = divmod(len(data), len(FRAME))
    assert whole >= 3
    assert data == FRAME * whole + FRAME[:rest]  # the window may end mid-frame
    emu.remove_tag(TAG)
    listen(port, 0.05)  # a frame may have been on its way
    assert listen(port, 0.1) == b""
    assert emu.frames_sent[TAG] >= 3


def test_several_tags_take_turns(link: Link) -> None:
    emu, port = link()
    emu.add_tag(TAG)
    emu.add_tag("13005D1DA5")
    emu.add_tag(TAG)  # already there: no change
    assert emu.tags == [TAG, "13005D1DA5"]
    data = listen(port, 0.1)
    assert FRAME + b"\x0213005D1DA5F6\x03" in data


def test_host_writes_are_ignored(link: Link) -> None:
    emu, port = link()
    port.write(b"anything\r\n\x02\x03")
    emu.add_tag(TAG)
    assert listen(port, 0.06).startswith(FRAME)


def test_faults_spoil_frames_but_never_send_another_tag(link: Link) -> None:
    emu, port = link(
        garbage_probability=0.3, bad_checksum_probability=0.2, truncate_probability=0.2, seed=1
    )
    emu.add_tag(TAG)
    data = listen(port, 0.3)
    assert FRAME in data
    # A wrong checksum, a cut frame and noise all show up in the stream.
    assert any(em4100_frame(TAG, checksum_error=e) in data for e in range(1, 256))
    assert data.count(b"\x02") > data.count(FRAME)
    assert emu.ghosts_sent == []


def test_ghost_reads_are_valid_frames_of_absent_tags(link: Link) -> None:
    emu, port = link(ghost_probability=1.0, seed=2)
    emu.add_tag(TAG)
    data = listen(port, 0.1)
    ghosts = emu.ghosts_sent
    assert ghosts
    assert TAG not in ghosts
    assert em4100_frame(ghosts[0]) in data
    assert emu.frames_sent[ghosts[0]] >= 1


def test_same_seed_same_stream() -> None:
    def stream(seed: int) -> bytes:
        emu = Rdm6300Emulator(interval_s=0.01, garbage_probability=0.5, seed=seed)
        with emu, serial.Serial(emu.port, 9600, timeout=0.05) as port:
            emu.add_tag(TAG)
            data = listen(port, 0.12)
            return data[: 3 * len(FRAME)]

    assert stream(4) == stream(4)
    assert stream(4) != stream(5)


def test_fail_and_recover(link: Link) -> None:
    emu, port = link()
    emu.add_tag(TAG)
    emu.fail()
    listen(port, 0.05)
    assert listen(port, 0.1) == b""
    emu.recover()
    assert FRAME in listen(port, 0.1)


@pytest.mark.parametrize(
    ("knob", "message"),
    [
        ({"garbage_probability": 1.5}, "garbage_probability"),
        ({"bad_checksum_probability": -0.1}, "bad_checksum_probability"),
        ({"truncate_probability": 2}, "truncate_probability"),
        ({"ghost_probability": -1}, "ghost_probability"),
        ({"interval_s": 0}, "interval_s"),
    ],
)
def test_bad_knobs_are_rejected(knob: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rdm6300Emulator(**knob)
