"""An emulated Mettler Toledo MT-SICS scale on a pseudo-terminal.

The driver opens `emulator.port` with pyserial exactly as it would open
/dev/ttyUSB0. A daemon thread reads commands from the pty master and answers
like a level 0/1 balance: `S`, `SI`, `T`, `TI`, `Z`, `ZI`, `@`, `I4`, `I0`;
anything else gets `ES`.

The load model lives in `firmware_sim.pty_scale.PtyScale`: `set_load()` sets
the gross weight and each change makes the scale unstable for its
`LoadCell`'s `settle_s` seconds. A world model (picks, deliveries) drives it
from outside. Faults: noise, creep (`drift_g_per_s`), garbage replies,
dropped replies and a silent (unplugged) state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Unpack

from firmware_sim.load_cell import DEFAULT_CELL, LoadCell
from firmware_sim.pty_device import LineFaults
from firmware_sim.pty_scale import PtyScale

_RANGE_STATUS = {"overload": "+", "underload": "-"}
_RECHECK_S = 0.05  # a wait for stability looks again this often: settle_s may change


@dataclass(frozen=True, slots=True)
class _Reply:
    lines: tuple[str, ...]
    stable_g: float | None = None  # the stable weight this reply reports, for the log


class MtSicsEmulator(PtyScale):
    """An MT-SICS balance on a pty. Use as a context manager or start()/stop().

    All weights are grams with two decimals. `cell`, `garbage_probability`
    and `drop_probability` may be changed while running.
    """

    def __init__(
        self,
        *,
        stable_timeout_s: float = 1.0,
        serial_number: str = "0123456789",
        cell: LoadCell = DEFAULT_CELL,
        **faults: Unpack[LineFaults],
    ) -> None:
        """`stable_timeout_s`: how long `S`, `T` and `Z` wait for stability
        before answering `I`. `cell`: readings below minus its `underload_g`
        answer `S -`; its `drift_g_per_s` is creep, stable readings grow
        that many grams a second from the last load change (or `start()`)
        and stay stable. `faults`: see `PtyDevice`."""
        if stable_timeout_s < 0:
            raise ValueError("stable_timeout_s must not be negative")
        super().__init__(name="mtsics", cell=cell, **faults)
        self.stable_timeout_s = stable_timeout_s
        self.serial_number = serial_number
        self._handlers: dict[str, Callable[[], _Reply]] = {
            "S": self._cmd_s,
            "SI": self._cmd_si,
            "T": self._cmd_t,
            "TI": self._cmd_ti,
            "Z": self._cmd_z,
            "ZI": self._cmd_zi,
            "@": self._cmd_reset,
            "I4": self._cmd_identity,
            "I0": self._cmd_list,
        }

    @property
    def commands_received(self) -> int:
        """Command lines received, including ignored and unknown ones."""
        return self.lines_received

    # -- thread hooks ----------------------------------------------------------

    def _handle_line(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            reply = _Reply(("ET",))  # a corrupt byte on the line
        else:
            handler = self._handlers.get(text.split()[0])
            reply = handler() if handler is not None else _Reply(("ES",))
        data = "".join(f"{part}\r\n" for part in reply.lines).encode("ascii")
        self._send_weight(data, reply.stable_g)

    # -- state -----------------------------------------------------------------

    def _reading(self, stable: bool) -> float:
        """The displayed (net) weight, noisy, rounded to the display's 0.01 g."""
        return round(self._net(stable), 2) + 0.0  # -0.0 would print as -0.00

    def _wait_stable(self) -> bool:
        """Wait up to `stable_timeout_s` for the load to settle; stop() cuts it short."""
        deadline = time.monotonic() + self.stable_timeout_s
        while True:
            with self._lock:
                if self._stable():
                    return True
                left = min(deadline - time.monotonic(), self._settles_in())
            if time.monotonic() >= deadline or self._stop.wait(max(0.0, min(left, _RECHECK_S))):
                return False

    def _refusal(self, echo: str, *, wait: bool) -> _Reply | None:
        """`I` when waiting for stability timed out, `+`/`-` out of range, else None
        (then the weight is stable, or `wait` was off). Call without `_lock`."""
        if wait and not self._wait_stable():
            return _Reply((f"{echo} I",))
        with self._lock:
            fault = self._range()
        return None if fault is None else _Reply((f"{echo} {_RANGE_STATUS[fault]}",))

    # -- commands --------------------------------------------------------------

    def _weight(self, echo: str, *, wait: bool) -> _Reply:
        refusal = self._refusal(echo, wait=wait)
        if refusal is not None:
            return refusal
        with self._lock:
            stable = self._stable()
            value = self._reading(stable)
        status = "S" if stable else "D"
        return _Reply((f"{echo} {status} {value:10.2f} g",), value if stable else None)

    def _cmd_s(self) -> _Reply:
        return self._weight("S", wait=True)

    def _cmd_si(self) -> _Reply:
        return self._weight("S", wait=False)  # SI is answered with the echo S

    def _tare(self, echo: str, *, wait: bool) -> _Reply:
        refusal = self._refusal(echo, wait=wait)
        if refusal is not None:
            return refusal
        with self._lock:
            stable = self._stable()
            self._tare_g = 0.0
            self._tare_g = self._reading(stable)  # the balance tares what it shows
            status = "S" if stable else "D"
            return _Reply((f"{echo} {status} {self._tare_g:10.2f} g",))

    def _cmd_t(self) -> _Reply:
        return self._tare("T", wait=True)

    def _cmd_ti(self) -> _Reply:
        return self._tare("TI", wait=False)

    def _zero(self, echo: str, *, wait: bool) -> _Reply:
        refusal = self._refusal(echo, wait=wait)
        if refusal is not None:
            return refusal
        with self._lock:
            stable = self._stable()
            self._zero_now()
        if echo == "Z":
            return _Reply(("Z A",))
        return _Reply((f"{echo} {'S' if stable else 'D'}",))

    def _cmd_z(self) -> _Reply:
        return self._zero("Z", wait=True)

    def _cmd_zi(self) -> _Reply:
        return self._zero("ZI", wait=False)

    def _cmd_identity(self) -> _Reply:
        return _Reply((f'I4 A "{self.serial_number}"',))

    def _cmd_reset(self) -> _Reply:
        # `@` returns to the power-on state (tare cleared, zero kept) and
        # answers like I4, so a host can tell which balance it talks to.
        with self._lock:
            self._tare_g = 0.0
        return self._cmd_identity()

    def _cmd_list(self) -> _Reply:
        names = list(self._handlers)
        lines = [f'I0 B 0 "{n}"' for n in names[:-1]] + [f'I0 A 0 "{names[-1]}"']
        return _Reply(tuple(lines))
