"""The line check and the wait for a stable weight that the ASCII scale drivers share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest

from edge_agent.drivers.aandd import AandDConfig, AandDScale
from edge_agent.drivers.base import FrameStats, WeightSample
from edge_agent.drivers.serial_port import NoLine, SerialLink
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.drivers.serial_text import (
    TextLines,
    ascii_text,
    decode_line,
    line_body,
    poll_until,
    wait_for_stable,
)
from edge_agent.drivers.stgs import StGsConfig, StGsIndicator
from edge_agent.errors import CommandRejected, FrameError, WeightOutOfRange
from firmware_sim.aandd_scale import AandDEmulator
from firmware_sim.stgs_indicator import StGsEmulator
from tests.edge_agent.drivers.bare_pty import Pty, soon
from tests.edge_agent.drivers.rigs import driver_rigs

pytestmark = pytest.mark.timeout(30)

STABLE = WeightSample(grams=100.0, stable=True)
UNSTABLE = WeightSample(grams=98.0, stable=False)

# -- the line check: pure ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "text"),
    [
        (b"ST,+00123.45  g\r\n", "ST,+00123.45  g"),
        (b"ST,+00123.45  g", "ST,+00123.45  g"),  # the terminator is optional
        (b"  1.250 kg  \r\n", "  1.250 kg  "),  # spaces are kept for the parser
        (b"~ !\r\n", "~ !"),  # printable ASCII from end to end
    ],
)
def test_decode_line_strips_crlf_and_keeps_the_text(line: bytes, text: str) -> None:
    assert decode_line(line, 64) == text


@pytest.mark.parametrize(
    ("line", "options", "message"),
    [
        (b"9" * 65, {}, "^frame of 65 bytes exceeds 64$"),
        (b"9" * 65, {"what": "line"}, "^line of 65 bytes exceeds 64$"),
        (b"\r\n", {}, "^empty frame$"),
        (b"   \r\n", {}, "^empty frame$"),
        (b"\xff\xfe\r\n", {}, r"non-ASCII byte 0xff at offset 0"),
        (b"ST,+1\x07 g\r\n", {}, r"control byte 0x07 at offset 5"),
        (b"ST,+1 g\r", {}, r"control byte 0x0d at offset 7"),  # half a terminator
        (b"ST,+1 g\n", {}, r"control byte 0x0a"),
        (b"\x7f\r\n", {"blank": True}, r"control byte 0x7f"),  # DEL
    ],
)
def test_decode_line_refuses_garbage(line: bytes, options: dict[str, Any], message: str) -> None:
    with pytest.raises(FrameError, match=message):
        decode_line(line, 64, **options)


def test_blank_lines_pass_where_the_protocol_allows_them() -> None:
    assert decode_line(b"\r\n", 64, blank=True) == ""
    assert decode_line(b"   \r\n", 64, blank=True) == "   "


def test_the_body_is_checked_apart_from_the_length() -> None:
    # A&D's <AK> (0x06) is a control byte: its protocol looks at the body first.
    assert line_body(b"\x06\r\n", 64) == b"\x06"
    with pytest.raises(FrameError, match="exceeds 4"):
        line_body(b"\x06" * 5, 4)
    assert ascii_text(b"EC,E11") == "EC,E11"
    with pytest.raises(FrameError, match="control byte 0x06"):
        ascii_text(b"\x06")


# -- TextLines on a bare pty -----------------------------------------------------


def parse_number(line: bytes) -> int:
    """A toy protocol: one decimal number a line."""
    text = decode_line(line, 16)
    if not text.isdigit():
        raise FrameError(f"not a number: {text!r}")
    return int(text)


@pytest.fixture
def lines(pty: Pty) -> Iterator[TextLines[int]]:
    stats = FrameStats()
    link = SerialLink(SerialSettings(port=pty.port), timeout_s=0.2, name="scale#01", stats=stats)
    link.open()
    yield TextLines(link, parse_number, max_bytes=16, end=b"\r\n", stats=stats)
    link.close()


def test_read_parses_each_line_and_counts_garbage(pty: Pty, lines: TextLines[int]) -> None:
    pty.send(b"12\r\nxx\r\n34\r\n")
    assert lines.read(soon(), "nothing") == 12
    with pytest.raises(FrameError, match="not a number: 'xx'"):
        lines.read(soon(), "nothing")
    assert lines.stats.bad == 1
    assert lines.read(soon(), "nothing") == 34  # the next read works
    assert lines.stats == FrameStats(bad=1)  # `ok` is the driver's to count


def test_an_overlong_line_is_counted_once(pty: Pty, lines: TextLines[int]) -> None:
    pty.send(b"9" * 40 + b"\r\n")
    with pytest.raises(FrameError, match="no line end within 16 bytes"):
        lines.read(soon(), "nothing")
    assert lines.stats.bad == 1


def test_silence_raises_no_line_saying_what_was_missing(lines: TextLines[int]) -> None:
    with pytest.raises(NoLine, match=r"^scale#01: no reply to 'Q' within 0\.1 s$"):
        lines.read(soon(0.1), "no reply to 'Q' within 0.1 s")
    assert lines.stats.timeouts == 1


def test_parse_counts_what_it_refuses(lines: TextLines[int]) -> None:
    assert lines.parse(b"7\r\n") == 7
    with pytest.raises(FrameError):
        lines.parse(b"seven\r\n")
    assert lines.stats.bad == 1


def test_send_drops_what_came_before(pty: Pty, lines: TextLines[int]) -> None:
    pty.send(b"1\r\n")  # a late answer to an earlier command
    time.sleep(0.05)
    lines.send(b"Q\r\n", what="'Q'")
    assert pty.received(3) == b"Q\r\n"
    pty.send(b"2\r\n")
    assert lines.read(soon(), "nothing") == 2


def test_skip_partial_drops_what_came_before_and_the_next_line(
    pty: Pty, lines: TextLines[int]
) -> None:
    pty.send(b"1\r\n")
    time.sleep(0.05)
    # Streamed after the flush: the first line may be a tail cut by it.
    later = threading.Timer(0.05, pty.send, [b"5 g\r\n6\r\n"])
    later.start()
    try:
        lines.skip_partial(soon(1.0), "nothing")
    finally:
        later.join()
    assert lines.read(soon(), "nothing") == 6
    assert lines.stats.bad == 0  # the dropped tail was never parsed


# -- the wait: poll_until and wait_for_stable -------------------------------------


def scripted(*steps: WeightSample | Exception) -> Callable[[float], WeightSample]:
    """A `read(deadline)` that answers or raises as told, one step a call."""
    left = list(steps)

    def read(deadline: float) -> WeightSample:
        step = left.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    return read


def wait(read: Callable[[float], WeightSample], timeout_s: float = 1.0) -> WeightSample:
    return wait_for_stable(read, timeout_s=timeout_s, pause_s=0.0, name="scale#01", command="T")


def test_the_first_stable_weight_is_returned() -> None:
    read = scripted(UNSTABLE, FrameError("garbage"), UNSTABLE, STABLE)
    assert wait(read) == STABLE


def test_garbage_then_silence_is_no_stable_weight_not_a_missing_device() -> None:
    # Garbage shows the device is there, as an unstable weight does: the
    # answer is "no stable weight" (code US), never "device unavailable".
    read = scripted(FrameError("garbage"), FrameError("garbage"), NoLine("nothing"))
    with pytest.raises(CommandRejected, match="'T' rejected with US") as info:
        wait(read)
    assert info.value.code == "US"


def test_unstable_then_silence_is_no_stable_weight() -> None:
    with pytest.raises(CommandRejected, match=r"no stable weight within 1\.0 s"):
        wait(scripted(UNSTABLE, NoLine("nothing")))


def test_silence_from_the_start_is_a_missing_device() -> None:
    with pytest.raises(NoLine, match="nothing"):
        wait(scripted(NoLine("nothing")))


def test_other_errors_are_not_swallowed() -> None:
    with pytest.raises(WeightOutOfRange):
        wait(scripted(UNSTABLE, WeightOutOfRange("scale#01", "overload")))


def test_a_device_that_never_settles_is_given_up_at_the_deadline() -> None:
    reads = 0

    def unsettled(deadline: float) -> WeightSample:
        nonlocal reads
        reads += 1
        return UNSTABLE

    started = time.monotonic()
    with pytest.raises(CommandRejected, match=r"no stable weight within 0\.2 s"):
        wait_for_stable(unsettled, timeout_s=0.2, pause_s=0.05, name="scale#01", command="T")
    assert 0.2 <= time.monotonic() - started < 1.0
    assert 1 <= reads <= 5, "paused 0.05 s between reads"


def test_a_pause_never_runs_past_the_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(CommandRejected):
        wait_for_stable(
            lambda deadline: UNSTABLE, timeout_s=0.1, pause_s=10.0, name="x", command="T"
        )
    assert time.monotonic() - started < 1.0


def test_poll_until_returns_what_will_do_or_none() -> None:
    read = scripted(UNSTABLE, STABLE)
    assert poll_until(read, lambda s: s.grams == 100.0, soon(1.0)) == STABLE
    read = scripted(STABLE, NoLine("nothing"))
    assert poll_until(read, lambda s: s.grams == 0.0, soon(1.0)) is None
    assert poll_until(scripted(), lambda s: True, time.monotonic()) is None  # no time at all


# -- the drivers that wait: A&D and ST,GS -----------------------------------------

Mode = Literal["stream", "request"]
Rig = Callable[[Mode], tuple[Any, Any]]


def _aandd(mode: Mode) -> tuple[AandDEmulator, AandDScale]:
    emu = AandDEmulator(mode=mode, rate_hz=50.0, garbage_probability=1.0)
    config = AandDConfig(
        type="aandd", port=emu.port, bytesize=8, parity="N", mode=mode, timeout_s=0.5
    )
    return emu, AandDScale(config)


def _stgs(mode: Mode) -> tuple[StGsEmulator, StGsIndicator]:
    emu = StGsEmulator(mode=mode, rate_hz=50.0, garbage_probability=1.0)
    config = StGsConfig(type="stgs", port=emu.port, mode=mode, timeout_s=0.5)
    return emu, StGsIndicator(config)


@pytest.mark.parametrize("mode", ["stream", "request"])
@pytest.mark.parametrize("make", [_aandd, _stgs], ids=["aandd", "stgs"])
def test_a_tare_after_garbage_then_silence_is_refused_not_unavailable(
    make: Rig, mode: Mode
) -> None:
    with driver_rigs() as opened:
        emu, driver = make(mode)
        emu.start()
        opened(emu, driver)
        silence = threading.Timer(0.15, emu.fail)  # garbage first, then nothing
        silence.start()
        try:
            with pytest.raises(CommandRejected) as info:
                driver.tare()
        finally:
            silence.join()
        assert info.value.code == "US"
        assert driver.stats.bad > 0
        assert driver.stats.ok == 0
        assert emu.tare_g == 0.0
