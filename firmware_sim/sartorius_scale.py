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
zero. The load cell (settling, noise, creep) is a `LoadCell`
(`firmware_sim.load_cell`).
"""

from __future__ import annotations

import math
import time
from typing import Final, Literal, Unpack

from firmware_sim.load_cell import DEFAULT_CELL, LoadCell
from firmware_sim.pty_device import Cadence, LineFaults
from firmware_sim.pty_scale import PtyScale

_ESC: Final = 0x1B
_MAX_PENDING_BYTES: Final = 64  # unparsed input kept while waiting for a command letter
#: Grams per display unit and the decimals shown.
_DISPLAY: Final[dict[str, tuple[float, int]]] = {"g": (1.0, 2), "kg": (1000.0, 5)}
_RANGE_STATUS: Final = {"overload": "H", "underload": "L"}
_WEIGHT_ID: Final = "N     "
_STATUS_ID: Final = "Stat  "


class SartoriusEmulator(PtyScale):
    """A Sartorius SBI balance on a pty. Use as a context manager or start()/stop().

    `auto_print`, `print_interval_s`, `line_time_s`, `cell`,
    `garbage_probability` and `drop_probability` may be changed while running.
    """

    def __init__(
        self,
        *,
        zero_range_g: float | None = None,
        taring_s: float = 0.0,
        auto_print: bool = False,
        print_interval_s: float = 0.1,
        id_codes: bool = False,
        unit: Literal["g", "kg"] = "g",
        cell: LoadCell = DEFAULT_CELL,
        **faults: Unpack[LineFaults],
    ) -> None:
        """`zero_range_g`: how far from zero ESC V and ESC T zero (default 2 %
        of the cell's capacity). `print_interval_s`: auto-print period, 0.01
        to 10 s. `cell`: gross readings below minus its `underload_g` print
        `L`; its `drift_g_per_s` is creep, stable weights grow that many
        grams a second from the last load change (or `start()`) and stay
        stable. `faults`: see `PtyDevice`; with `line_time_s` above 0 each
        frame goes out in two halves, so a host that flushes mid-frame sees
        a partial line, as on a real line."""
        if not 0.01 <= print_interval_s <= 10.0:
            raise ValueError(f"print_interval_s must be within [0.01, 10], got {print_interval_s}")
        if taring_s < 0:
            raise ValueError("taring_s must not be negative")
        if unit not in _DISPLAY:
            raise ValueError(f"unit must be one of {', '.join(_DISPLAY)}, got {unit!r}")
        super().__init__(name="sartorius", cell=cell, **faults)
        self.zero_range_g = cell.capacity_g * 0.02 if zero_range_g is None else zero_range_g
        self.taring_s = taring_s
        self.auto_print = auto_print
        self.print_interval_s = print_interval_s
        self.id_codes = id_codes
        self.unit = unit
        self._blank_until = -math.inf  # display blank while taring
        self._error: int | None = None
        self._calibrating = False
        self._pending = bytearray()  # input not yet parsed into commands
        self._commands = 0
        self._printing = Cadence()

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

    @property
    def commands_received(self) -> int:
        """ESC commands received, including ignored and unknown ones."""
        with self._lock:
            return self._commands

    # -- thread hooks ----------------------------------------------------------

    def _handle_bytes(self, data: bytes) -> None:
        """Act on every complete ESC <letter>, drop other bytes."""
        pending = self._pending
        pending += data
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

    def _tick(self, now: float) -> float:
        if not self.auto_print:
            self._printing.restart()  # print at once when switched on
            return math.inf
        if self._printing.due(now, self.print_interval_s):
            self._print()
        return self._printing.wait(now)

    # -- commands and frames -----------------------------------------------------

    def _command(self, letter: str) -> None:
        with self._lock:
            self._commands += 1
        if self._failed:
            return
        if letter == "P":
            self._print()
            return
        with self._lock:
            near_zero = abs(self._cell_g() - self._zero_g) <= self.zero_range_g
            in_range = self._range() is None
            if letter == "V" or (letter == "T" and near_zero):
                if near_zero:
                    self._zero_now()
                    self._blank_until = time.monotonic() + self.taring_s
            elif letter in "TU" and in_range:
                self._tare_now()
                self._blank_until = time.monotonic() + self.taring_s
            # Other letters (filters, key lock, calibration, ...) are not emulated.

    def _print(self) -> None:
        if self._failed:
            return
        with self._lock:
            frame, stable_g = self._frame()
        self._send_weight(frame.encode("ascii"), stable_g)

    def _frame(self) -> tuple[str, float | None]:
        """The frame to print now and the stable weight in grams it reports
        (call with _lock held)."""
        if self._error is not None:
            return self._status(f"   Err {self._error:03d}    "), None
        if self._calibrating:
            return self._status(f"{'':6}C{'':7}"), None
        if time.monotonic() < self._blank_until:
            return self._status(" " * 14), None
        fault = self._range()
        if fault is not None:
            return self._status(f"{'':6}{_RANGE_STATUS[fault]}{'':7}"), None
        stable = self._stable()
        factor, decimals = _DISPLAY[self.unit]
        shown = round(self._net(stable) / factor, decimals)
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
