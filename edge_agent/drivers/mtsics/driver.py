"""MT-SICS scale driver: the protocol adapted to a serial port with pyserial.

One command, one reply line. Before each command the input buffer is flushed,
so a late reply to an earlier, timed-out command or the tail of a noise burst
can never be taken for the answer to this one; that is how the driver recovers
from garbage without any resynchronisation state.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self

import serial
from pydantic import Field

from edge_agent.drivers.base import WeightSample
from edge_agent.drivers.mtsics.protocol import (
    MAX_FRAME_BYTES,
    TERMINATOR,
    DataResponse,
    ErrorReply,
    Response,
    Status,
    StatusResponse,
    WeightResponse,
    encode_command,
    parse_response,
    reply_echoes,
)
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.errors import (
    CommandRejected,
    DeviceUnavailable,
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


class MtSicsConfig(SerialSettings):
    """Settings of one MT-SICS scale (the driver's part of a `[[scales]]` entry)."""

    type: Literal["mtsics"]
    command: Literal["SI", "S"] = Field(
        default="SI",
        description="SI answers at once (stable or dynamic); S waits for a stable weight",
    )
    timeout_s: float = Field(default=2.0, gt=0, allow_inf_nan=False)


@dataclass(slots=True)
class FrameStats:
    """Counters of one scale's traffic since it was created."""

    ok: int = 0  # replies that parsed
    bad: int = 0  # garbage lines (FrameError raised)
    stale: int = 0  # well-formed replies to some other command, skipped
    timeouts: int = 0  # commands with no reply line within timeout_s


class MtSicsScale:
    """A Mettler Toledo MT-SICS balance or terminal on a serial port.

    Implements `edge_agent.drivers.base.WeightDriver`. Not thread-safe: one
    poller owns a scale.
    """

    def __init__(self, config: MtSicsConfig) -> None:
        self.config = config
        self.name = config.port
        self.stats = FrameStats()
        self._serial: serial.Serial | None = None

    @property
    def is_open(self) -> bool:
        """True between a successful `open()` and `close()`."""
        return self._serial is not None

    def open(self) -> None:
        """Open the port and flush anything the scale sent before.

        Raises `DeviceUnavailable` when the port cannot be opened. Opening an
        open scale does nothing.
        """
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
                exclusive=True,  # two pollers on one scale would steal each other's replies
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
        """Send the configured command (`SI` or `S`) and return the weight.

        Returns a stable or dynamic `WeightSample`, or None when the scale is
        busy (`S I`, e.g. `S` found no stable weight in time). Raises
        `WeightOutOfRange` on `+`/`-`, `CommandRejected` on an error reply,
        `FrameError` on a garbage line (counted; the next call works) and
        `DeviceUnavailable` when the port fails or nothing answers in time.
        """
        cmd = self.config.command
        reply = self.query(cmd)
        if isinstance(reply, WeightResponse):
            return WeightSample(grams=reply.grams, stable=reply.stable)
        if isinstance(reply, StatusResponse):
            if reply.status is Status.BUSY:
                return None
            if reply.status is Status.OVERLOAD:
                raise WeightOutOfRange(self.name, "overload")
            if reply.status is Status.UNDERLOAD:
                raise WeightOutOfRange(self.name, "underload")
        raise self._rejected(cmd, reply)

    def tare(self) -> float:
        """Tare (`T`, waits for a stable weight); return the tare in grams.

        Later weights are net. Raises `CommandRejected` when the scale refuses
        (e.g. `T I`: no stable weight in time; `T +`: beyond the tare range).
        """
        reply = self.query("T")
        if isinstance(reply, WeightResponse) and reply.stable:
            return reply.grams
        raise self._rejected("T", reply)

    def zero(self) -> None:
        """Zero the scale (`Z`, waits for a stable weight; expects `Z A`).

        Raises `CommandRejected` when the scale refuses (`Z I`, `Z +`, `Z -`).
        """
        reply = self.query("Z")
        if isinstance(reply, StatusResponse) and reply.status is Status.DONE:
            return
        raise self._rejected("Z", reply)

    def query(self, cmd: str) -> Response:
        """Send any command and return its first reply line, parsed.

        Error replies (`ES`, ...) are returned, not raised. Further lines of a
        multi-line (`B`) reply are discarded by the next command's flush.
        Raises `FrameError` on garbage and `DeviceUnavailable` on I/O failure
        or timeout; `ValueError` if `cmd` is not a valid command.
        """
        port = self._require_open()
        frame = encode_command(cmd)
        expected = reply_echoes(cmd)
        try:
            port.reset_input_buffer()
            port.write(frame)
        except _PORT_ERRORS as exc:
            raise DeviceUnavailable(f"{self.name}: cannot send {cmd!r}: {exc}") from exc
        deadline = time.monotonic() + self.config.timeout_s
        # Bounded: every pass either returns, raises, or consumes a whole line
        # before the deadline.
        while True:
            line = self._read_line(port, cmd, deadline)
            try:
                reply = parse_response(line)
            except FrameError:
                self.stats.bad += 1
                raise
            if isinstance(reply, ErrorReply) or reply.command in expected:
                self.stats.ok += 1
                return reply
            self.stats.stale += 1

    def _read_line(self, port: serial.Serial, cmd: str, deadline: float) -> bytes:
        buf = bytearray()
        while True:
            if time.monotonic() >= deadline:
                self.stats.timeouts += 1
                raise DeviceUnavailable(
                    f"{self.name}: no reply to {cmd!r} within {self.config.timeout_s} s"
                )
            try:
                buf += port.read_until(TERMINATOR, MAX_FRAME_BYTES + 1 - len(buf))
            except _PORT_ERRORS as exc:
                raise DeviceUnavailable(f"{self.name}: read failed: {exc}") from exc
            if buf.endswith(TERMINATOR):
                return bytes(buf)
            if len(buf) > MAX_FRAME_BYTES:
                self.stats.bad += 1
                raise FrameError(f"{self.name}: no line end within {MAX_FRAME_BYTES} bytes")

    def _require_open(self) -> serial.Serial:
        if self._serial is None:
            raise DeviceUnavailable(f"{self.name}: not open")
        return self._serial

    def _rejected(self, cmd: str, reply: Response) -> CommandRejected:
        if isinstance(reply, ErrorReply):
            return CommandRejected(self.name, cmd, reply.code.value, reply.reason)
        if isinstance(reply, StatusResponse):
            return CommandRejected(self.name, cmd, reply.status.value, reply.reason)
        if isinstance(reply, DataResponse):
            detail = f"unexpected data {reply.values!r}"
            return CommandRejected(self.name, cmd, reply.status.value, detail)
        state = "stable" if reply.stable else "dynamic"
        return CommandRejected(self.name, cmd, state, f"unexpected {state} weight reply")
