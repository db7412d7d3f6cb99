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

import contextlib
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self

import serial
from pydantic import Field, field_validator

from edge_agent.drivers.base import WeightSample
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
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.errors import (
    CommandRejected,
    DeviceUnavailable,
    DriverError,
    FrameError,
    WeightOutOfRange,
)

_PORT_ERRORS: tuple[type[Exception], ...]
try:
    import termios

    # pyserial lets termios.error (not an OSError) escape from tcflush when
    # the device vanished under an open port.
    _PORT_ERRORS = (serial.SerialException, OSError, termios.error)
except ImportError:  # pragma: no cover - Windows has no termios
    _PORT_ERRORS = (serial.SerialException, OSError)

#: How long one blocking read may wait before the deadline is checked again.
_READ_SLICE_S = 0.05
_LINE_END = b"\n"


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


@dataclass(slots=True)
class FrameStats:
    """Counters of one scale's traffic since it was created."""

    ok: int = 0  # frames that parsed
    bad: int = 0  # garbage lines (FrameError raised)
    timeouts: int = 0  # reads with no complete frame within timeout_s


class SartoriusScale:
    """A Sartorius balance speaking SBI on a serial port.

    Implements `edge_agent.drivers.base.WeightDriver`. Not thread-safe: one
    poller owns a scale.
    """

    def __init__(self, config: SartoriusConfig) -> None:
        self.config = config
        self.name = config.port
        self.stats = FrameStats()
        self._serial: serial.Serial | None = None
        self._unit = config.unit  # the display unit, updated by every stable frame

    @property
    def is_open(self) -> bool:
        """True between a successful `open()` and `close()`."""
        return self._serial is not None

    def open(self) -> None:
        """Open the port. Raises `DeviceUnavailable`; opening an open scale does nothing."""
        if self._serial is not None:
            return
        cfg = self.config
        try:
            port = serial.Serial(
                port=cfg.port,
                baudrate=cfg.baudrate,
                bytesize=cfg.bytesize,
                parity=cfg.parity,
                stopbits=cfg.stopbits,
                timeout=min(_READ_SLICE_S, cfg.timeout_s),
                write_timeout=cfg.timeout_s,
                exclusive=True,  # two pollers on one balance would steal each other's frames
            )
            port.reset_input_buffer()
        except _PORT_ERRORS as exc:
            raise DeviceUnavailable(f"{cfg.port}: cannot open: {exc}") from exc
        self._serial = port

    def close(self) -> None:
        """Close the port; safe to call twice."""
        port, self._serial = self._serial, None
        if port is not None:
            # A device that is gone already is closed enough.
            with contextlib.suppress(*_PORT_ERRORS):
                port.close()

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def read_weight(self) -> WeightSample | None:
        """Read one frame and return its weight.

        Returns a stable or unstable `WeightSample`, or None while the display
        is blank (taring). Raises `WeightOutOfRange` on `H`/`L`, `DriverError`
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
            raise DriverError(f"{self.name}: balance reports error {frame.code}")
        special = frame.special
        if special is Special.BLANK:
            return None
        if special is Special.OVERLOAD:
            raise WeightOutOfRange(self.name, "overload")
        if special is Special.UNDERLOAD:
            raise WeightOutOfRange(self.name, "underload")
        raise DriverError(f"{self.name}: balance reports {frame.reason}")

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
        port = self._require_open()
        try:
            port.write(encode_command(command))
            port.flush()  # on the wire when tare()/zero() return
        except _PORT_ERRORS as exc:
            raise DeviceUnavailable(f"{self.name}: cannot send ESC {command.value}: {exc}") from exc

    def read_frame(self) -> Frame:
        """Read one frame as `mode` says and return it parsed (for diagnostics too).

        Raises `FrameError` on garbage and `DeviceUnavailable` on I/O failure
        or timeout.
        """
        port = self._require_open()
        streaming = self.config.mode == "stream"
        try:
            port.reset_input_buffer()
            if not streaming:
                port.write(encode_command(Command.PRINT))
        except _PORT_ERRORS as exc:
            raise DeviceUnavailable(f"{self.name}: cannot request a frame: {exc}") from exc
        deadline = time.monotonic() + self.config.timeout_s
        if streaming:
            self._read_line(port, deadline)  # maybe the tail of a frame cut by the flush
        line = self._read_line(port, deadline)
        try:
            frame = parse_frame(line)
        except FrameError:
            self.stats.bad += 1
            raise
        self.stats.ok += 1
        return frame

    def _read_line(self, port: serial.Serial, deadline: float) -> bytes:
        buf = bytearray()
        while True:
            if time.monotonic() >= deadline:
                self.stats.timeouts += 1
                raise DeviceUnavailable(
                    f"{self.name}: no complete frame within {self.config.timeout_s} s"
                    f" ({self.config.mode} mode)"
                )
            try:
                buf += port.read_until(_LINE_END, MAX_FRAME_BYTES + 1 - len(buf))
            except _PORT_ERRORS as exc:
                raise DeviceUnavailable(f"{self.name}: read failed: {exc}") from exc
            if buf.endswith(_LINE_END):
                return bytes(buf)
            if len(buf) > MAX_FRAME_BYTES:
                self.stats.bad += 1
                raise FrameError(f"{self.name}: no line end within {MAX_FRAME_BYTES} bytes")

    def _require_open(self) -> serial.Serial:
        if self._serial is None:
            raise DeviceUnavailable(f"{self.name}: not open")
        return self._serial
