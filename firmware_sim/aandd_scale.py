"""An emulated A&D balance (FX-i/GX style) on a pseudo-terminal.

Sends A&D standard format frames (`ST,+00123.45  g`): continuously at
`rate_hz` in stream mode, or on request in request mode. Understands `Q` and
`SI` (weight now), `S` (weight when stable), `SIR` (start streaming), `C`
(stop streaming, cancel `S`), `T` (tare) and `R`/`Z` (re-zero). `T`, `R`, `Z`
and `S` wait for a stable weight up to `stable_timeout_s` while the stream
goes on, as on the real balance.

With `acknowledge=True` (the balance's "AK, error code" function) control
commands are answered `<AK>` CR LF on receipt and again when done, and
refusals with `EC,Exx`; without it the balance never answers them.

The load cell (settling, noise, creep with `drift_g_per_s`) is a `LoadCell`
(`firmware_sim.load_cell`); `piece_weight_g` switches to counting mode
(`QT`/`US` frames in `PC`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, Unpack

from firmware_sim.load_cell import DEFAULT_CELL, LoadCell
from firmware_sim.pty_device import Cadence, LineFaults
from firmware_sim.pty_scale import PtyScale

ACK_LINE: Final = b"\x06\r\n"

#: Grams per display unit and decimals shown, per unit the emulator can show.
_DISPLAY: Final[dict[str, tuple[float, int]]] = {"g": (1.0, 2), "kg": (1000.0, 5)}
_VALUE_WIDTH: Final = 9  # sign, digits and decimal point


@dataclass(slots=True)
class _Pending:
    """A command waiting for a stable weight."""

    command: str
    deadline: float
    action: Callable[[], None]


class AandDEmulator(PtyScale):
    """An A&D balance on a pty. Use as a context manager or start()/stop().

    `cell`, `piece_weight_g` and the fault probabilities may be changed while
    running.
    """

    def __init__(
        self,
        *,
        mode: Literal["stream", "request"] = "stream",
        rate_hz: float = 10.0,
        acknowledge: bool = False,
        unit: Literal["g", "kg"] = "g",
        stable_timeout_s: float = 1.0,
        cell: LoadCell = DEFAULT_CELL,
        **faults: Unpack[LineFaults],
    ) -> None:
        """`rate_hz`: frames per second in stream mode (0 < rate <= 100).
        `stable_timeout_s`: how long `S`, `T`, `R` and `Z` wait for stability.
        `cell`: its `drift_g_per_s` is creep, `ST` weights grow that many grams
        a second from the last load change (or `start()`) and stay `ST`.
        `faults`: see `PtyDevice`."""
        if not 0 < rate_hz <= 100:
            raise ValueError(f"rate_hz must be within (0, 100], got {rate_hz}")
        if unit not in _DISPLAY:
            raise ValueError(f"unit must be one of {', '.join(_DISPLAY)}, got {unit!r}")
        if stable_timeout_s < 0:
            raise ValueError("stable_timeout_s must not be negative")
        super().__init__(name="aandd", cell=cell, **faults)
        self.acknowledge = acknowledge
        self.unit = unit
        self.stable_timeout_s = stable_timeout_s
        self.piece_weight_g: float | None = None
        self._period = 1.0 / rate_hz
        self._streaming = mode == "stream"
        self._framing = Cadence()
        self._pending: list[_Pending] = []
        self._frames = 0
        self._commands: dict[str, Callable[[], None]] = {
            "Q": self._cmd_now,
            "SI": self._cmd_now,
            "S": self._cmd_stable,
            "SIR": self._cmd_stream,
            "C": self._cmd_cancel,
            "T": self._cmd_tare,
            "R": self._cmd_zero,
            "Z": self._cmd_zero,
        }

    @property
    def streaming(self) -> bool:
        """True while frames are sent continuously (stream mode or after `SIR`)."""
        return self._streaming

    @property
    def frames_sent(self) -> int:
        """Data frames sent intact (not dropped or spoiled)."""
        with self._lock:
            return self._frames

    # -- thread hooks ----------------------------------------------------------

    def _handle_line(self, line: bytes) -> None:
        try:
            text = line.decode("ascii").strip()
        except UnicodeDecodeError:
            self._error("E00")  # a corrupt byte on the line
            return
        if not text:
            return
        command = self._commands.get(text)
        if command is None:
            self._error("E01")
            return
        command()

    def _tick(self, now: float) -> float:
        wait = self._run_pending(now)
        if not self._streaming:
            return wait
        if self._framing.due(now, self._period):
            self._emit_frame()
        return min(wait, self._framing.wait(now))

    # -- frames ----------------------------------------------------------------

    def _frame(self) -> tuple[str, float | None]:
        """The frame for the current load and the stable grams it reports."""
        with self._lock:
            fault = self._range()
            if fault is not None:
                sign = "+" if fault == "overload" else "-"
                return f"OL,{sign}999999.9{self.unit:>3}", None
            stable = self._stable()
            net = self._net(stable)
        if self.piece_weight_g:
            header = "QT" if stable else "US"
            return f"{header},{round(net / self.piece_weight_g):+0{_VALUE_WIDTH}d} PC", None
        factor, decimals = _DISPLAY[self.unit]
        value = round(net / factor, decimals) + 0.0  # -0.0 would print as -00000.00
        text = f"{'ST' if stable else 'US'},{value:+0{_VALUE_WIDTH}.{decimals}f}{self.unit:>3}"
        return text, round(value * factor, 6) if stable else None

    def _emit_frame(self) -> None:
        text, stable_g = self._frame()
        if self._send_weight(text.encode("ascii") + b"\r\n", stable_g):
            with self._lock:
                self._frames += 1

    def _ack(self) -> None:
        if self.acknowledge:
            self._send(ACK_LINE)

    def _error(self, code: str) -> None:
        # Error codes are part of the same function setting as <AK>.
        if self.acknowledge:
            self._send(f"EC,{code}\r\n".encode("ascii"))

    # -- commands --------------------------------------------------------------

    def _cmd_now(self) -> None:
        self._emit_frame()

    def _cmd_stable(self) -> None:
        self._wait_stable("S", self._emit_frame)

    def _cmd_stream(self) -> None:
        self._streaming = True
        self._framing.restart()

    def _cmd_cancel(self) -> None:
        self._streaming = False
        self._pending = [p for p in self._pending if p.command != "S"]

    def _cmd_tare(self) -> None:
        self._ack()

        def tare() -> None:
            with self._lock:
                self._tare_now()
            self._ack()

        self._wait_stable("T", tare)

    def _cmd_zero(self) -> None:
        self._ack()

        def zero() -> None:
            with self._lock:
                self._zero_now()
            self._ack()

        self._wait_stable("R", zero)

    def _wait_stable(self, command: str, action: Callable[[], None]) -> None:
        deadline = time.monotonic() + self.stable_timeout_s
        self._pending.append(_Pending(command, deadline, action))
        self._run_pending(time.monotonic())

    def _run_pending(self, now: float) -> float:
        """Run the waiting commands whose weight is stable, time out the others;
        return seconds until one may be due (inf when none waits)."""
        wait = math.inf
        for pending in list(self._pending):
            with self._lock:
                fault = self._range()
                stable = self._stable()
                settles_in = self._settles_in()
            if fault is not None:
                self._pending.remove(pending)
                self._error("E02" if pending.command == "S" else "E11")
            elif stable:
                self._pending.remove(pending)
                pending.action()
            elif now >= pending.deadline:
                self._pending.remove(pending)
                self._error("E03" if pending.command == "S" else "E11")
            else:
                wait = min(wait, settles_in, pending.deadline - now)
        return wait
