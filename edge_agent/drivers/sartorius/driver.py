"""Sartorius SBI scale driver: the protocol adapted to a serial port with pyserial.

Two ways to get a frame, chosen by `mode`:

- `request`: flush the input, send ESC P, read the one line that answers.
- `stream`: the balance prints on its own ("auto print"); flush the input,
  throw away the first line (it may be the tail of a frame cut by the flush,
  and the tail of `-    12.00 g` would parse as +12 g), return the next one.

Either way the flush before each read is what recovers from garbage: nothing
left over from an earlier read can be taken for this one's answer.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import Field, field_validator

from edge_agent.drivers.base import FrameStats, WeightSample
from edge_agent.drivers.sartorius.protocol import (
    MAX_FRAME_BYTES,
    UNIT_GRAMS,
    Command,
    ErrorFrame,
    Frame,
    Special,
    WeightFrame,
    encode_command,
    parse_frame,
)
from edge_agent.drivers.serial_port import SerialDriver, SerialLink
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.drivers.serial_text import TextLines
from edge_agent.errors import CommandRejected, DeviceFault, WeightOutOfRange

_ERROR_REASON = "see the balance's manual for what it means"


class SartoriusConfig(SerialSettings):
    """Settings of one Sartorius SBI balance (the driver's part of a `[[scales]]` entry).

    The serial defaults (9600 baud, 7 data bits, odd parity, 1 stop bit) are
    common on Sartorius balances but were not confirmed for every model;
    match the balance's interface menu.
    """

    type: Literal["sartorius"]
    baudrate: int = 9600
    bytesize: int = 7
    parity: str = "O"
    stopbits: float = 1
    mode: Literal["request", "stream"] = Field(
        default="request",
        description="request: send ESC P per read; stream: the balance auto-prints",
    )
    timeout_s: float = Field(default=2.0, gt=0, allow_inf_nan=False)
    unit: str = Field(
        default="g",
        description="display unit assumed for unstable frames (they carry no unit) "
        "until a stable frame names it",
    )
    tare_command: Literal["U", "T"] = Field(
        default="U",
        description="U: ESC U (tare); T: ESC T, the TARE key (zeroes near zero, tares otherwise)",
    )

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        if value not in UNIT_GRAMS:
            raise ValueError(f"unit {value!r} is not one of: {', '.join(UNIT_GRAMS)}")
        return value


class SartoriusScale(SerialDriver):
    """A Sartorius balance speaking SBI on a serial port.

    Implements `edge_agent.drivers.base.WeightDriver`. Not thread-safe: one
    poller owns a scale.
    """

    def __init__(self, config: SartoriusConfig) -> None:
        self.config = config
        self.name = config.port
        self.stats = FrameStats()
        self._link = SerialLink(config, timeout_s=config.timeout_s, stats=self.stats)
        self._lines = TextLines(
            self._link, parse_frame, max_bytes=MAX_FRAME_BYTES, end=b"\n", stats=self.stats
        )
        self._unit = config.unit  # the display unit, updated by every stable frame

    def read_weight(self) -> WeightSample | None:
        """Read one frame and return its weight.

        Returns a stable or unstable `WeightSample`, or None while the display
        is blank (taring). Raises `WeightOutOfRange` on `H`/`L`, `DeviceFault`
        on `C` (calibrating) and `Err ###`, `FrameError` on a garbage line
        (counted; the next call works) and `DeviceUnavailable` when the port
        fails or no frame arrives within `timeout_s`.
        """
        frame = self.read_frame()
        if isinstance(frame, WeightFrame):
            if frame.unit is not None:
                self._unit = frame.unit
            return WeightSample(grams=frame.grams(self._unit), stable=frame.stable)
        if isinstance(frame, ErrorFrame):
            raise DeviceFault(self.name, f"error {frame.code}", _ERROR_REASON, device="balance")
        special = frame.special
        if special is Special.BLANK:
            return None
        if special is Special.OVERLOAD:
            raise WeightOutOfRange(self.name, "overload")
        if special is Special.UNDERLOAD:
            raise WeightOutOfRange(self.name, "underload")
        raise DeviceFault(self.name, special.value, frame.reason, device="balance")

    def tare(self) -> float:
        """Tare with ESC U (or ESC T, see `tare_command`); return the tare in grams.

        SBI does not acknowledge a tare, so the driver first reads a stable
        weight (the amount the tare removes, returned) and refuses with
        `CommandRejected` when there is none (unstable, blank display).
        """
        command = Command(self.config.tare_command)
        sample = self.read_weight()
        if sample is None or not sample.stable:
            state = "blank" if sample is None else "unstable"
            raise CommandRejected(
                self.name, f"ESC {command.value}", state, "no stable weight to tare"
            )
        self.send(command)
        return sample.grams

    def zero(self) -> None:
        """Zero with ESC V. The balance does not acknowledge it; outside its
        zero range it ignores the command, which shows in the next reading."""
        self.send(Command.ZERO)

    def send(self, command: Command) -> None:
        """Send one SBI command (no reply is read). Raises `DeviceUnavailable`."""
        # Drained: on the wire when tare()/zero() return.
        self._link.write(encode_command(command), what=f"ESC {command.value}", drain=True)

    def read_frame(self) -> Frame:
        """Read one frame as `mode` says and return it parsed (for diagnostics too).

        Raises `FrameError` on garbage and `DeviceUnavailable` on I/O failure
        or timeout.
        """
        silence = f"no complete frame within {self.config.timeout_s} s ({self.config.mode} mode)"
        if self.config.mode == "stream":
            deadline = time.monotonic() + self.config.timeout_s
            self._lines.skip_partial(deadline, silence)
        else:
            self._lines.send(encode_command(Command.PRINT), what="ESC P")
            deadline = time.monotonic() + self.config.timeout_s
        frame = self._lines.read(deadline, silence)
        self.stats.ok += 1
        return frame
