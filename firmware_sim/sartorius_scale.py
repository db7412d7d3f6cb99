"""An emulated Sartorius balance speaking SBI on a pseudo-terminal.

The driver opens `emulator.port` with pyserial exactly as it would open
/dev/ttyUSB0. A daemon thread reads SBI commands (ESC and a letter; CR LF and
anything else between commands is ignored, as the manuals call it optional)
and, with `auto_print`, prints a frame every `print_interval_s` like a balance
set to automatic output. Commands: ESC P prints one frame, ESC U tares, ESC V
zeroes (inside the zero range only), ESC T is the TARE key (zeroes inside the
zero range, tares outside it); other letters are ignored.

Frames are 16 characters, or 22 with `id_codes` (`N     ` before weights,
`Stat  ` before status frames). Unstable weights have a blank unit. Status
frames: `H`/`L` out of range, `C` while `set_calibrating(True)`, `Err ###`
while `set_error(###)`, and a blank display for `taring_s` after a tare or
zero. Self-contained on purpose: `firmware_sim.pty_device` reads whole lines,
and SBI commands need not end in one.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import threading
import time
import tty
from types import TracebackType
from typing import Final, Literal, Self

_POLL_S: Final = 0.05  # longest select() wait; stop() wakes the thread at once through a pipe
_ESC: Final = 0x1B
_MAX_PENDING_BYTES: Final = 64  # unparsed input kept while waiting for a command letter
_NOISE_BYTES: Final = bytes(b for b in range(256) if b not in b"\r\n")
#: Grams per display unit and the decimals shown.
_DISPLAY: Final[dict[str, tuple[float, int]]] = {"g": (1.0, 2), "kg": (1000.0, 5)}
_WEIGHT_ID: Final = "N     "
_STATUS_ID: Final = "Stat  "


class SartoriusEmulator:
    """A Sartorius SBI balance on a pty. Use as a context manager or start()/stop().

    `auto_print`, `noise_g`, `garbage_probability` and `drop_probability`
    may be changed while running.
    """

    def __init__(
        self,
        *,
        capacity_g: float = 6200.0,
        underload_g: float = 50.0,
        zero_range_g: float | None = None,
        settle_s: float = 0.3,
        taring_s: float = 0.0,
        noise_g: float = 0.0,
        dynamic_noise_g: float = 2.0,
        garbage_probability: float = 0.0,
        drop_probability: float = 0.0,
        auto_print: bool = False,
        print_interval_s: float = 0.1,
        line_time_s: float = 0.0,
        id_codes: bool = False,
        unit: Literal["g", "kg"] = "g",
        seed: int = 0,
    ) -> None:
        """`underload_g`: gross readings below minus this print `L`.
        `zero_range_g`: how far from zero ESC V and ESC T zero (default 2 % of
        capacity). `print_interval_s`: auto-print period, 0.01 to 10 s.
        `line_time_s`: time one frame takes on the wire; when above 0 each
        frame goes out in two halves that far apart, so a host that flushes
        mid-frame sees a partial line, as on a real line."""
        for name, p in (("garbage", garbage_probability), ("drop", drop_probability)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name}_probability must be within [0, 1], got {p}")
        if not 0.01 <= print_interval_s <= 10.0:
            raise ValueError(f"print_interval_s must be within [0.01, 10], got {print_interval_s}")
        if not 0.0 <= line_time_s <= 0.1:
            raise ValueError(f"line_time_s must be within [0, 0.1], got {line_time_s}")
        if capacity_g <= 0 or underload_g < 0 or settle_s < 0 or taring_s < 0:
            raise ValueError("capacity must be positive; underload and times not negative")
        if unit not in _DISPLAY:
            raise ValueError(f"unit must be one of {', '.join(_DISPLAY)}, got {unit!r}")
        self.capacity_g = capacity_g
        self.underload_g = underload_g
        self.zero_range_g = capacity_g * 0.02 if zero_range_g is None else zero_range_g
        self.settle_s = settle_s
        self.taring_s = taring_s
        self.noise_g = noise_g
        self.dynamic_noise_g = dynamic_noise_g
        self.garbage_probability = garbage_probability
        self.drop_probability = drop_probability
        self.auto_print = auto_print
        self.print_interval_s = print_interval_s
        self.line_time_s = line_time_s
        self.id_codes = id_codes
        self.unit = unit
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._gross_g = 0.0
        self._zero_g = 0.0  # gross weight that reads as zero
        self._tare_g = 0.0
        self._changed_at = -float("inf")  # monotonic time of the last load change
        self._blank_until = -float("inf")  # display blank while taring
        self._error: int | None = None
        self._calibrating = False
        self._failed = False
        self._reported: list[float] = []
        self._commands = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe()  # stop() writes here so select() returns
        self._master, self._slave = os.openpty()
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
        """Start answering (and auto-printing) in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("emulator already started")
        if self._master < 0:
            raise RuntimeError("emulator was stopped; create a new one")
        self._thread = threading.Thread(
            target=self._run, name=f"sartorius-{self._port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the pty; idempotent."""
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\0")
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

    # -- load model and faults -----------------------------------------------

    def set_load(self, grams: float) -> None:
        """Set the gross load; a change makes the balance unstable for `settle_s`."""
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

    def set_error(self, code: int | None) -> None:
        """Show `Err <code>` instead of weights until called with None."""
        if code is not None and not 0 <= code <= 999:
            raise ValueError(f"error code must be within [0, 999], got {code}")
        with self._lock:
            self._error = code

    def set_calibrating(self, on: bool) -> None:
        """Show `C` (calibration/adjustment running) instead of weights while on."""
        with self._lock:
            self._calibrating = on

    def fail(self) -> None:
        """Go silent, like an unplugged cable: no frames, commands ignored."""
        self._failed = True

    def recover(self) -> None:
        """Talk again after `fail()`."""
        self._failed = False

    @property
    def reported_stable(self) -> list[float]:
        """A copy of every stable weight (grams) sent intact, in order."""
        with self._lock:
            return list(self._reported)

    @property
    def commands_received(self) -> int:
        """ESC commands received, including ignored and unknown ones."""
        with self._lock:
            return self._commands

    # -- thread --------------------------------------------------------------

    def _run(self) -> None:
        pending = bytearray()
        next_print = time.monotonic()
        while not self._stop.is_set():
            wait = _POLL_S
            if self.auto_print:
                wait = max(0.0, min(wait, next_print - time.monotonic()))
            try:
                ready, _, _ = select.select([self._master, self._wake_r], [], [], wait)
                data = os.read(self._master, 1024) if self._master in ready else b""
            except BlockingIOError:
                data = b""
            except OSError:
                # We hold the slave open, so EIO cannot happen; anything else:
                # back off instead of spinning.
                self._stop.wait(_POLL_S)
                continue
            pending += data
            self._take_commands(pending)
            now = time.monotonic()
            if not self.auto_print:
                next_print = now
            elif now >= next_print:
                self._print()
                next_print += self.print_interval_s
                if next_print < now:  # fell behind: never burst to catch up
                    next_print = now + self.print_interval_s

    def _take_commands(self, pending: bytearray) -> None:
        """Act on every complete ESC <letter> in `pending`, drop other bytes."""
        while True:
            start = pending.find(_ESC)
            if start < 0:
                pending.clear()
                return
            if start + 1 >= len(pending):
                del pending[:start]  # wait for the letter
                if len(pending) > _MAX_PENDING_BYTES:
                    pending.clear()
                return
            letter = chr(pending[start + 1])
            del pending[: start + 2]
            self._command(letter)

    def _command(self, letter: str) -> None:
        with self._lock:
            self._commands += 1
        if self._failed:
            return
        if letter == "P":
            self._print()
            return
        with self._lock:
            near_zero = abs(self._gross_g - self._zero_g) <= self.zero_range_g
            in_range = self._range() is None
            if letter == "V" or (letter == "T" and near_zero):
                if near_zero:
                    self._zero_g = self._gross_g
                    self._tare_g = 0.0  # zeroing clears the tare, as on a real balance
                    self._blank_until = time.monotonic() + self.taring_s
            elif letter in "TU" and in_range:
                self._tare_g = self._gross_g - self._zero_g
                self._blank_until = time.monotonic() + self.taring_s
            # Other letters (filters, key lock, calibration, ...) are not emulated.

    def _print(self) -> None:
        if self._failed:
            return
        with self._lock:
            frame, stable_g = self._frame()
        # Draw both numbers every time so one seed gives one fault sequence.
        drop = self._rng.random() < self.drop_probability
        garbage = self._rng.random() < self.garbage_probability
        if drop:
            return
        if garbage:
            self._write(self._garbage())
            return
        if stable_g is not None:
            # Logged before writing, so a reader that has the frame finds it logged.
            with self._lock:
                self._reported.append(stable_g)
        self._write(frame.encode("ascii"))

    def _write(self, data: bytes) -> None:
        # A real UART never blocks on a missing reader; drop what does not fit.
        with contextlib.suppress(OSError):
            if self.line_time_s > 0:
                half = len(data) // 2
                os.write(self._master, data[:half])
                self._stop.wait(self.line_time_s)
                data = data[half:]
            os.write(self._master, data)

    def _garbage(self) -> bytes:
        # Always undecodable (a byte >= 0x80 first) and one line long, so
        # tests know exactly one frame was spoiled.
        size = self._rng.randint(2, 20)
        body = [self._rng.choice(_NOISE_BYTES) for _ in range(size)]
        return bytes([self._rng.randint(0x80, 0xFF), *body]) + b"\r\n"

    # -- frames (call with _lock held) -----------------------------------------

    def _range(self) -> str | None:
        raw = self._gross_g - self._zero_g
        if raw > self.capacity_g:
            return "H"
        if raw < -self.underload_g:
            return "L"
        return None

    def _frame(self) -> tuple[str, float | None]:
        """The frame to print now and the stable weight in grams it reports."""
        if self._error is not None:
            return self._status(f"   Err {self._error:03d}    "), None
        if self._calibrating:
            return self._status(f"{'':6}C{'':7}"), None
        if time.monotonic() < self._blank_until:
            return self._status(" " * 14), None
        fault = self._range()
        if fault is not None:
            return self._status(f"{'':6}{fault}{'':7}"), None
        stable = time.monotonic() - self._changed_at >= self.settle_s
        if stable:
            noise = self._rng.gauss(0.0, self.noise_g) if self.noise_g > 0 else 0.0
        else:
            noise = self._rng.uniform(-self.dynamic_noise_g, self.dynamic_noise_g)
        factor, decimals = _DISPLAY[self.unit]
        shown = round((self._gross_g - self._zero_g - self._tare_g + noise) / factor, decimals)
        digits = f"{abs(shown):.{decimals}f}"
        sign = "+" if shown > 0 else "-" if shown < 0 else " "
        # Position 2 is a space unless the value needs 9 characters.
        value = f" {digits:>8}" if len(digits) <= 8 else f"{digits:>9}"
        unit = self.unit if stable else ""
        body = f"{sign}{value} {unit:<3}"
        prefix = _WEIGHT_ID if self.id_codes else ""
        return f"{prefix}{body}\r\n", (shown * factor + 0.0 if stable else None)

    def _status(self, body: str) -> str:
        prefix = _STATUS_ID if self.id_codes else ""
        return f"{prefix}{body}\r\n"
