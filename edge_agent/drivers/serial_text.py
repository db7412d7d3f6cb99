"""What the drivers of ASCII-line scales share: the line check and the wait for a stable weight.

Five drivers read text lines from a serial port: `aandd`, `mtsics`,
`sartorius`, `stgs` and `openscale`. Their protocols differ, but around the
parsing they do the same things, written here once:

- `decode_line` (`line_body` and `ascii_text`): a line is not too long, loses
  its CR LF and is printable ASCII, else `FrameError`. Pure; each driver's
  `protocol.py` calls it before parsing.
- `TextLines`: reads lines from a `SerialLink` up to a deadline, parses each
  with the driver's pure parser and counts garbage in the driver's
  `stats.bad`; sends a command after a flush; drops the first line after a
  flush, which may be the tail of a line the flush cut in half.
- `poll_until` and `wait_for_stable`: read until an answer will do (a stable
  weight before a tare, a stable zero after one), skipping garbage, and give
  up at a deadline.

Parsing stays pure in each driver's `protocol.py`; this module does the I/O
around it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from edge_agent.drivers.base import FrameStats, WeightSample
from edge_agent.drivers.serial_port import NoLine, SerialLink
from edge_agent.errors import CommandRejected, FrameError

#: What ends a line of every ASCII scale protocol.
CRLF: Final = b"\r\n"

F = TypeVar("F")
T = TypeVar("T")


def line_body(line: bytes, max_bytes: int, *, what: str = "frame") -> bytes:
    """`line` without its CR LF.

    Raises `FrameError` when `line` is longer than `max_bytes`; `what` names
    the line in the message ("frame", "line").
    """
    if len(line) > max_bytes:
        raise FrameError(f"{what} of {len(line)} bytes exceeds {max_bytes}")
    return line.removesuffix(CRLF)


def ascii_text(body: bytes, *, blank: bool = False) -> str:
    """`body` as text.

    Raises `FrameError` naming the first byte that is not printable ASCII
    (a control character or a byte above 0x7E), and, unless `blank`, when
    `body` is empty or only spaces.
    """
    if not blank and not body.strip(b" "):
        raise FrameError("empty frame")
    for offset, byte in enumerate(body):
        if byte > 0x7E or byte < 0x20:
            kind = "non-ASCII" if byte > 0x7F else "control"
            raise FrameError(f"{kind} byte 0x{byte:02x} at offset {offset} in {body!r}")
    return body.decode("ascii")


def decode_line(line: bytes, max_bytes: int, *, what: str = "frame", blank: bool = False) -> str:
    """A line as received, as text: `line_body`, then `ascii_text`."""
    return ascii_text(line_body(line, max_bytes, what=what), blank=blank)


@dataclass(frozen=True, slots=True)
class TextLines(Generic[F]):
    """The lines of one ASCII protocol on a `SerialLink`, parsed.

    `parser` is the protocol's pure parser (e.g. `protocol.parse_frame`); a
    line it refuses is counted in `stats.bad` before the `FrameError` goes
    on, so a driver never counts garbage itself. A line is read up to `end`
    (`b"\\r\\n"`, or `b"\\n"`) and at most `max_bytes` long.
    """

    link: SerialLink
    parser: Callable[[bytes], F]
    max_bytes: int
    end: bytes
    stats: FrameStats

    def send(self, data: bytes, *, what: str) -> None:
        """Flush the input, then send `data` (a command; `what` names it in errors).

        Flushed first, so a late answer to an earlier command or the rest of
        a noise burst is never taken for the answer to this one. Raises
        `DeviceUnavailable`.
        """
        self.link.flush_input()
        self.link.write(data, what=what)

    def skip_partial(self, deadline: float, silence: str) -> None:
        """Flush the input and throw the next line away, unparsed.

        For a device that streams: the flush may have cut a line in half, and
        its tail (`3.45  g` of `ST,+00123.45  g`) must never pass for a
        frame. Raises as `read_line` does.
        """
        self.link.flush_input()
        self.read_line(deadline, silence)

    def read_line(self, deadline: float, silence: str) -> bytes:
        """The next line, terminator included, not parsed.

        Raises `NoLine` ("<port>: <silence>") when no complete line arrives by
        `deadline` (`time.monotonic()`), `FrameError` when `max_bytes` pass
        without a line end, and `DeviceUnavailable` when the port fails.
        """
        return self.link.read_line(deadline, self.max_bytes, end=self.end, silence=silence)

    def parse(self, line: bytes) -> F:
        """`line` parsed; raises `FrameError` on garbage, counted in `stats.bad`."""
        try:
            return self.parser(line)
        except FrameError:
            self.stats.bad += 1
            raise

    def read(self, deadline: float, silence: str) -> F:
        """The next line, parsed: `read_line`, then `parse`.

        A `FrameError` is counted and raised; the next read works.
        """
        return self.parse(self.read_line(deadline, silence))


def poll_until(
    read: Callable[[float], T],
    done: Callable[[T], bool],
    deadline: float,
    *,
    pause_s: float = 0.0,
) -> T | None:
    """Call `read(deadline)` until `done` accepts what it returns, and return that.

    Returns None when the deadline passes while the device keeps answering.
    A garbage line (`FrameError`, counted by `TextLines`) is skipped, but it
    shows the device is there just as an answer does. After an answer that
    will not do, waits `pause_s` (at most until the deadline), so a device
    asked by request is not flooded. Raises `NoLine` when nothing at all came
    before the deadline, and whatever else `read` raises (out of range, a
    device fault, a refused command).
    """
    heard = False
    while time.monotonic() < deadline:
        try:
            answer = read(deadline)
        except FrameError:
            heard = True
            continue
        except NoLine:
            if heard:
                return None
            raise
        if done(answer):
            return answer
        heard = True
        if pause_s > 0:
            time.sleep(max(0.0, min(pause_s, deadline - time.monotonic())))
    return None


def wait_for_stable(
    read: Callable[[float], WeightSample],
    *,
    timeout_s: float,
    pause_s: float,
    name: str,
    command: str,
) -> WeightSample:
    """Read weights for up to `timeout_s` until one is stable, and return it.

    What a driver does before `command` (a tare) that must act on a stable
    weight; `poll_until` says how garbage and silence are taken. Raises
    `CommandRejected` (code `US`, `name` the device) when no weight is
    stable in time, `NoLine` when the device said nothing at all, and what
    `read` raises (`WeightOutOfRange`, `DeviceFault`, ...).
    """
    deadline = time.monotonic() + timeout_s
    sample = poll_until(read, _is_stable, deadline, pause_s=pause_s)
    if sample is None:
        raise CommandRejected(name, command, "US", f"no stable weight within {timeout_s} s")
    return sample


def _is_stable(sample: WeightSample) -> bool:
    return sample.stable
