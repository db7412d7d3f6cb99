"""One serial port opened from `SerialSettings`: bytes in and out, no protocol.

Every serial driver talks to its device through a `SerialLink`, so opening,
closing, flushing, writing and reading with a deadline are written once, and
the errors a vanishing USB adapter raises are turned into `DeviceUnavailable`
in one place. Blocking reads last at most `READ_SLICE_S`, so a deadline is
checked often and a read overshoots it by one slice at most.

`SerialDriver` gives a driver built on a link its `open`, `close`, `is_open`
and `with` support.
"""

from __future__ import annotations

import contextlib
import time

import serial

from edge_agent.drivers.base import DeviceSession, FrameStats
from edge_agent.drivers.serial_settings import SerialSettings
from edge_agent.errors import DeviceUnavailable, FrameError

#: What pyserial raises when a port fails or vanishes.
PORT_ERRORS: tuple[type[Exception], ...]
try:
    import termios

    # pyserial lets termios.error (not an OSError) escape from tcflush when
    # the device vanished under an open port.
    PORT_ERRORS = (serial.SerialException, OSError, termios.error)
except ImportError:  # pragma: no cover - Windows has no termios
    PORT_ERRORS = (serial.SerialException, OSError)

#: How long one blocking read may wait before the deadline is checked again.
READ_SLICE_S = 0.05


class NoLine(DeviceUnavailable):
    """Nothing complete arrived before the deadline; the port itself works."""


class SerialLink:
    """A serial port owned by one driver.

    `timeout_s` is the driver's reply timeout: it bounds a write and, with
    `READ_SLICE_S`, one blocking read. `name` prefixes error messages (the
    port unless given, e.g. `/dev/ttyUSB0#01` for an address on a bus). When
    `stats` is given, `read_line` counts timeouts and overlong lines in it.
    """

    def __init__(
        self,
        settings: SerialSettings,
        *,
        timeout_s: float,
        name: str | None = None,
        stats: FrameStats | None = None,
    ) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self.name = settings.port if name is None else name
        self.stats = stats
        self._port: serial.Serial | None = None

    @property
    def is_open(self) -> bool:
        """True between a successful `open()` and `close()`."""
        return self._port is not None

    def open(self) -> None:
        """Open the port for this process alone and drop what arrived before.

        Raises `DeviceUnavailable` naming the port; opening an open link does nothing.
        """
        if self._port is not None:
            return
        s = self.settings
        port: serial.Serial | None = None
        try:
            port = serial.Serial(
                port=s.port,
                baudrate=s.baudrate,
                bytesize=s.bytesize,
                parity=s.parity,
                stopbits=s.stopbits,
                timeout=min(READ_SLICE_S, self.timeout_s),
                write_timeout=self.timeout_s,
                # Two pollers on one port would steal each other's frames; on
                # an RS-485 bus too, so several devices on one port need one owner.
                exclusive=True,
            )
            port.reset_input_buffer()
        except PORT_ERRORS as exc:
            if port is not None:
                _close_quietly(port)
            raise DeviceUnavailable(f"{s.port}: cannot open: {exc}") from exc
        self._port = port

    def close(self) -> None:
        """Close the port; safe to call twice."""
        port, self._port = self._port, None
        if port is not None:
            _close_quietly(port)

    def flush_input(self) -> None:
        """Drop every byte received and not read yet. Raises `DeviceUnavailable`."""
        port = self._require_open()
        try:
            port.reset_input_buffer()
        except PORT_ERRORS as exc:
            raise DeviceUnavailable(f"{self.name}: cannot flush input: {exc}") from exc

    def write(self, data: bytes, *, what: str | None = None, drain: bool = False) -> None:
        """Send `data`; with `drain`, return only once it is on the wire.

        `what` names the data in the error (default: the bytes). Raises
        `DeviceUnavailable` when the port fails or the write times out.
        """
        port = self._require_open()
        try:
            port.write(data)
            if drain:
                port.flush()
        except PORT_ERRORS as exc:
            label = repr(data) if what is None else what
            raise DeviceUnavailable(f"{self.name}: cannot send {label}: {exc}") from exc

    def read_line(
        self, deadline: float, max_bytes: int, *, end: bytes = b"\n", silence: str = "no line"
    ) -> bytes:
        """Read one line ending in `end` (`b"\\n"`, or `b"\\r\\n"`), terminator included.

        Raises `NoLine` ("<name>: <silence>") when the line is not complete by
        `deadline` (`time.monotonic()`), `FrameError` when `max_bytes` pass
        without `end`, and `DeviceUnavailable` when the port fails.
        """
        port = self._require_open()
        buf = bytearray()
        while True:
            if time.monotonic() >= deadline:
                if self.stats is not None:
                    self.stats.timeouts += 1
                raise NoLine(f"{self.name}: {silence}")
            try:
                buf += port.read_until(end, max_bytes + 1 - len(buf))
            except PORT_ERRORS as exc:
                raise DeviceUnavailable(f"{self.name}: read failed: {exc}") from exc
            if buf.endswith(end):
                return bytes(buf)
            if len(buf) > max_bytes:
                if self.stats is not None:
                    self.stats.bad += 1
                raise FrameError(f"{self.name}: no line end within {max_bytes} bytes")

    def read(self, max_bytes: int, deadline: float) -> bytes:
        """Up to `max_bytes` of whatever arrives, for binary protocols.

        Waits one read slice at most for the first byte, then takes what else
        is already waiting; b"" when nothing came or `deadline` has passed.
        Raises `DeviceUnavailable` when the port fails.
        """
        port = self._require_open()
        if time.monotonic() >= deadline:
            return b""
        try:
            data = port.read(1)
            if data and max_bytes > 1 and (waiting := port.in_waiting):
                data += port.read(min(waiting, max_bytes - 1))
        except PORT_ERRORS as exc:
            raise DeviceUnavailable(f"{self.name}: read failed: {exc}") from exc
        return data

    def _require_open(self) -> serial.Serial:
        if self._port is None:
            raise DeviceUnavailable(f"{self.name}: not open")
        return self._port


class SerialDriver(DeviceSession):
    """Opening, closing and `with` for a driver whose device is on a `SerialLink`.

    The driver sets `_link` in its constructor and extends `open()`/`close()`
    where it has more to do (reset a decoder, apply settings).
    """

    _link: SerialLink

    @property
    def is_open(self) -> bool:
        """True between a successful `open()` and `close()`."""
        return self._link.is_open

    def open(self) -> None:
        """Open the port and drop what the device sent before.

        Raises `DeviceUnavailable`; opening an open device does nothing.
        """
        self._link.open()

    def close(self) -> None:
        """Close the port; safe to call twice."""
        self._link.close()


def _close_quietly(port: serial.Serial) -> None:
    # A device that is gone already is closed enough.
    with contextlib.suppress(*PORT_ERRORS):
        port.close()
