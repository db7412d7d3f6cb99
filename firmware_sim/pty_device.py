"""What every emulated serial scale shares: a pseudo-terminal, a thread, a load.

`PtyDevice` is the plumbing: a pty in raw mode whose slave path a driver opens
with pyserial as it would open /dev/ttyUSB0, a daemon thread that reads command
lines with `select` (woken by `stop()`, so it returns at once) and calls a timer
hook for devices that stream, fault injection on every line sent (dropped or
replaced by garbage) and a silent state (`fail()`, like a pulled cable).

`PtyScale` adds the load model: `set_load()` sets the gross weight; a change
makes the scale unstable for `settle_s` seconds; zero, tare, capacity and
underload limits, noise. Subclasses speak one protocol each.

`firmware_sim.mtsics_scale` predates this module and still has its own copy of
the plumbing; it could move onto `PtyScale` unchanged in behaviour.
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
from typing import Literal, Self

_POLL_S = 0.05  # longest select() wait: how often the thread looks at its clock
_MAX_LINE_BYTES = 256  # a longer command without LF is noise; drop it
_NOISE_BYTES = bytes(b for b in range(256) if b not in b"\r\n")

OutOfRange = Literal["overload", "underload"]


class PtyDevice:
    """A serial device on a pty answering lines in a daemon thread.

    Subclasses implement `_handle_line()` and, to stream, `_tick()`. Both run
    in the device thread; state shared with callers is guarded by `_lock`.
    """

    def __init__(
        self,
        *,
        name: str,
        garbage_probability: float = 0.0,
        drop_probability: float = 0.0,
        seed: int = 0,
    ) -> None:
        for what, p in (("garbage", garbage_probability), ("drop", drop_probability)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{what}_probability must be within [0, 1], got {p}")
        self.garbage_probability = garbage_probability
        self.drop_probability = drop_probability
        self._name = name
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._failed = False
        self._lines = 0
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
        """Command lines received, including ignored, blank and unknown ones."""
        with self._lock:
            return self._lines

    # -- for subclasses ------------------------------------------------------

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
        # A real UART never blocks on a missing reader; drop what does not fit.
        with contextlib.suppress(OSError):
            os.write(self._master, data)

    def _garbage(self) -> bytes:
        # Always undecodable (a byte >= 0x80 first) and exactly one line, so
        # tests know one line was spoiled.
        size = self._rng.randint(2, 20)
        body = [self._rng.choice(_NOISE_BYTES) for _ in range(size)]
        return bytes([self._rng.randint(0x80, 0xFF), *body]) + b"\r\n"

    # -- thread --------------------------------------------------------------

    def _run(self) -> None:
        buf = bytearray()
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
            buf += data
            while b"\n" in buf:
                line, _, rest = bytes(buf).partition(b"\n")
                buf = bytearray(rest)
                with self._lock:
                    self._lines += 1
                if not self._failed:
                    self._handle_line(line.removesuffix(b"\r"))
            if len(buf) > _MAX_LINE_BYTES:
                buf.clear()
            wait = max(0.0, self._tick(time.monotonic()))


class PtyScale(PtyDevice):
    """A `PtyDevice` with a load cell: gross load, zero, tare, settling, noise.

    Weights are grams. `settle_s`, `noise_g`, `dynamic_noise_g` and the fault
    probabilities may be changed while running.
    """

    def __init__(
        self,
        *,
        name: str,
        capacity_g: float = 6200.0,
        underload_g: float = 50.0,
        settle_s: float = 0.3,
        noise_g: float = 0.0,
        dynamic_noise_g: float = 2.0,
        garbage_probability: float = 0.0,
        drop_probability: float = 0.0,
        seed: int = 0,
    ) -> None:
        """`underload_g`: readings below minus this are underload.
        `noise_g`: standard deviation of stable readings; `dynamic_noise_g`:
        spread of readings while unstable."""
        if capacity_g <= 0 or underload_g < 0 or settle_s < 0:
            raise ValueError("capacity must be positive; underload and settle_s not negative")
        super().__init__(
            name=name,
            garbage_probability=garbage_probability,
            drop_probability=drop_probability,
            seed=seed,
        )
        self.capacity_g = capacity_g
        self.underload_g = underload_g
        self.settle_s = settle_s
        self.noise_g = noise_g
        self.dynamic_noise_g = dynamic_noise_g
        self._gross_g = 0.0
        self._zero_g = 0.0  # gross weight that reads as zero
        self._tare_g = 0.0
        self._changed_at = -math.inf  # monotonic time of the last load change
        self._reported: list[float] = []

    def set_load(self, grams: float) -> None:
        """Set the gross load; a change makes the scale unstable for `settle_s`."""
        with self._lock:
            if grams != self._gross_g:
                self._gross_g = grams
                self._changed_at = time.monotonic()

    @property
    def load_g(self) -> float:
        """The gross load last set."""
        with self._lock:
            return self._gross_g

    @property
    def tare_g(self) -> float:
        """The tare currently subtracted from readings (0 when none)."""
        with self._lock:
            return self._tare_g

    @property
    def reported_stable(self) -> list[float]:
        """A copy of every stable weight (grams) sent intact, in order."""
        with self._lock:
            return list(self._reported)

    # -- for subclasses (call with _lock held, except _send_weight) -------------

    def _stable(self) -> bool:
        return time.monotonic() - self._changed_at >= self.settle_s

    def _settles_in(self) -> float:
        """Seconds until the load is stable (0 when it is)."""
        return max(0.0, self._changed_at + self.settle_s - time.monotonic())

    def _range(self) -> OutOfRange | None:
        """Whether the load is outside the weighing range, else None."""
        raw = self._gross_g - self._zero_g
        if raw > self.capacity_g:
            return "overload"
        if raw < -self.underload_g:
            return "underload"
        return None

    def _net(self, stable: bool) -> float:
        """The net weight in grams with noise, not rounded."""
        if stable:
            noise = self._rng.gauss(0.0, self.noise_g) if self.noise_g > 0 else 0.0
        else:
            noise = self._rng.uniform(-self.dynamic_noise_g, self.dynamic_noise_g)
        return self._gross_g - self._zero_g - self._tare_g + noise

    def _zero_now(self) -> None:
        """Zero at the current load; zeroing clears the tare, as on real scales."""
        self._zero_g = self._gross_g
        self._tare_g = 0.0

    def _tare_now(self) -> float:
        """Tare the current (noise-free) net load; return the tare in grams."""
        self._tare_g = self._gross_g - self._zero_g
        return self._tare_g

    def _send_weight(self, data: bytes, stable_g: float | None) -> bool:
        """Send a weight line; log `stable_g` (if any) when it goes out intact."""

        def log() -> None:
            if stable_g is not None:
                with self._lock:
                    self._reported.append(stable_g)

        return self._send(data, on_intact=log)
