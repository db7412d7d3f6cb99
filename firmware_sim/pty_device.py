"""What every emulated serial device shares: a pseudo-terminal and a thread.

`PtyDevice` is the plumbing: a pty in raw mode whose slave path a driver opens
with pyserial as it would open /dev/ttyUSB0, a daemon thread that reads what
the host sends with `select` (woken by `stop()`, so it returns at once) and
calls a timer hook for devices that stream, fault injection on every line sent
(dropped or replaced by garbage), a silent state (`fail()`, like a pulled
cable) and, with `line_time_s`, writes that arrive in two halves as on a slow
line.

Subclasses fill in hooks:

- `_handle_bytes(data)`: bytes as they arrive, in the device thread. The
  default cuts them into lines at LF and calls `_handle_line(line)`; devices
  whose commands are not lines (ESC sequences, single keys, binary frames)
  override it instead.
- `_tick(now)`: streaming output, in the device thread; returns seconds until
  it is next due.
- `_on_start()`: power-up state, set by `start()` before the thread runs.

`firmware_sim.pty_scale.PtyScale` adds a load cell for the weighing devices;
`Cadence` times streamed output.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import select
import threading
import time
import tty
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypedDict

_POLL_S = 0.05  # longest select() wait: how often the thread looks at its clock
_MAX_LINE_BYTES = 256  # a longer command without LF is noise; drop it
_MAX_LINE_TIME_S = 0.1
_NOISE_BYTES = bytes(b for b in range(256) if b not in b"\r\n")


class Cadence:
    """When a periodic output is next due. After a stall it starts again from
    now instead of sending a burst to catch up, as a device's own timer does."""

    def __init__(self) -> None:
        self._next_at = -math.inf

    def due(self, now: float, period_s: float) -> bool:
        """True if output is due at `now`; then the next is `period_s` later."""
        if now < self._next_at:
            return False
        self._next_at += period_s
        if self._next_at <= now:  # fell behind (or the first one)
            self._next_at = now + period_s
        return True

    def wait(self, now: float) -> float:
        """Seconds until output is next due (0 when it is)."""
        return max(0.0, self._next_at - now)

    def restart(self) -> None:
        """Make output due at once."""
        self._next_at = -math.inf


class LineFaults(TypedDict, total=False):
    """`PtyDevice`'s fault knobs, as keyword arguments an emulator passes on
    (`**faults: Unpack[LineFaults]`) without naming each."""

    garbage_probability: float
    drop_probability: float
    line_time_s: float
    seed: int


class PtyDevice:
    """A serial device on a pty, served by a daemon thread.

    Subclasses implement `_handle_line()` (or `_handle_bytes()`) and, to
    stream, `_tick()`; both run in the device thread, and state shared with
    callers is guarded by `_lock`.
    """

    def __init__(
        self,
        *,
        name: str,
        garbage_probability: float = 0.0,
        drop_probability: float = 0.0,
        line_time_s: float = 0.0,
        seed: int = 0,
    ) -> None:
        """`garbage_probability`: a line sent goes out as undecodable noise
        instead; `drop_probability`: it is not sent at all. `line_time_s`:
        time a write takes on the wire (at most 0.1 s); above 0 each goes out
        in two halves that far apart, so a host that flushes mid-line sees a
        partial line. `seed`: the random numbers of faults (and of a scale's
        noise) repeat with it."""
        for what, p in (("garbage", garbage_probability), ("drop", drop_probability)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{what}_probability must be within [0, 1], got {p}")
        if not 0.0 <= line_time_s <= _MAX_LINE_TIME_S:
            raise ValueError(
                f"line_time_s must be within [0, {_MAX_LINE_TIME_S}], got {line_time_s}"
            )
        self.garbage_probability = garbage_probability
        self.drop_probability = drop_probability
        self.line_time_s = line_time_s
        self._name = name
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._failed = False
        self._lines = 0
        self._partial_line = bytearray()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master, self._slave = os.openpty()
        # stop() writes here to wake the thread out of select() at once.
        self._wake_r, self._wake_w = os.pipe()
        # Raw mode: no echo, no CR/LF translation, so bytes pass untouched
        # until pyserial opens the port (it sets raw mode again).
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self._port = os.ttyname(self._slave)

    # -- lifecycle -----------------------------------------------------------

    @property
    def port(self) -> str:
        """The slave device path to open with pyserial."""
        return self._port

    def start(self) -> None:
        """Start the device thread."""
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        if self._master < 0:
            raise RuntimeError("emulator was stopped; create a new one")
        self._on_start()
        self._thread = threading.Thread(
            target=self._run, name=f"{self._name}-{self._port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the pty; idempotent."""
        self._stop.set()
        if self._wake_w >= 0:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = self._wake_r = self._wake_w = -1

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- faults --------------------------------------------------------------

    def fail(self) -> None:
        """Go silent, like an unplugged cable: nothing is sent, commands are ignored."""
        self._failed = True

    def recover(self) -> None:
        """Talk again after `fail()`."""
        self._failed = False

    @property
    def failed(self) -> bool:
        """True between `fail()` and `recover()`."""
        return self._failed

    @property
    def lines_received(self) -> int:
        """Command lines received, including ignored, blank and unknown ones
        (always 0 on devices that do not read lines)."""
        with self._lock:
            return self._lines

    # -- for subclasses ------------------------------------------------------

    def _on_start(self) -> None:
        """Called by `start()` just before the thread starts."""

    def _handle_bytes(self, data: bytes) -> None:
        """Bytes from the host as they arrive, split anywhere; also while failed.

        This default cuts lines at LF and, unless failed, passes each to
        `_handle_line()`; a line longer than 256 bytes is noise and dropped.
        """
        self._partial_line += data
        *lines, rest = bytes(self._partial_line).split(b"\n")
        self._partial_line = bytearray(rest if len(rest) <= _MAX_LINE_BYTES else b"")
        for line in lines:
            with self._lock:
                self._lines += 1
            if not self._failed:
                self._handle_line(line.removesuffix(b"\r"))

    def _handle_line(self, line: bytes) -> None:
        """One received line without its CR LF (may be empty or non-ASCII)."""
        raise NotImplementedError

    def _tick(self, now: float) -> float:
        """Called on every pass of the thread; return seconds until the next call
        is due (the thread wakes at least every 0.05 s anyway)."""
        return math.inf

    def _send(self, data: bytes, *, on_intact: Callable[[], None] | None = None) -> bool:
        """Send one line through the fault model; True if it went out intact.

        `on_intact` runs just before an intact line is written, so a reader
        that has the line also sees what the callback logged. Silent while
        failed. Both random numbers are drawn every time, so one seed gives
        one fault sequence whatever the probabilities are.
        """
        if self._failed:
            return False
        drop = self._rng.random() < self.drop_probability
        garbage = self._rng.random() < self.garbage_probability
        if drop:
            return False
        if garbage:
            self._write(self._garbage())
            return False
        if on_intact is not None:
            on_intact()
        self._write(data)
        return True

    def _write(self, data: bytes) -> None:
        """Write to the host as is: no fault model, no check for `fail()`."""
        # A real UART never blocks on a missing reader; drop what does not fit.
        with contextlib.suppress(OSError):
            if self.line_time_s > 0:
                half = len(data) // 2
                os.write(self._master, data[:half])
                self._stop.wait(self.line_time_s)
                data = data[half:]
            os.write(self._master, data)

    def _garbage(self) -> bytes:
        # Always undecodable (a byte >= 0x80 first) and exactly one line, so
        # tests know one line was spoiled.
        size = self._rng.randint(2, 20)
        body = [self._rng.choice(_NOISE_BYTES) for _ in range(size)]
        return bytes([self._rng.randint(0x80, 0xFF), *body]) + b"\r\n"

    # -- thread --------------------------------------------------------------

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select(
                    [self._master, self._wake_r], [], [], min(_POLL_S, wait)
                )
                data = os.read(self._master, 1024) if self._master in ready else b""
            except BlockingIOError:
                data = b""
            except OSError:
                # We hold the slave open, so EIO cannot happen; anything else:
                # back off instead of spinning.
                self._stop.wait(_POLL_S)
                continue
            if data:
                self._handle_bytes(data)
            wait = max(0.0, self._tick(time.monotonic()))
