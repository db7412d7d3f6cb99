"""An emulated "ST,GS" weight indicator (Dini Argeo DGT style) on a pseudo-terminal.

Sends the standard string `[aa]ST,GS,   1.250,kg` (weight in kg, 8 characters
with the decimal point): continuously at `rate_hz` in stream mode, or as the
answer to `READ` in request mode. `TARE`/`T` and `ZERO`/`Z` answer `OK` and act
at once when the weight is stable and in range, else `ERR03`; an unknown
command gets `ERR04`, a known one with trailing letters (`READF`) `ERR01`.
Commands are answered in both modes unless `commands_in_stream` is off.

RS-485: with `address` set, only commands starting with that address are
answered, and every reply carries it. `neighbours` (address -> gross grams)
adds other indicators' traffic to the bus: their frames precede each of ours,
and a `READ` for one of their addresses is answered by that neighbour.

Faults beyond the shared ones (`firmware_sim.pty_scale`, and creep with the
`LoadCell`'s `drift_g_per_s`): `not_level` (`TL`) and `display` `"VL"`/`"RZ"`
(raw microvolts or converter points).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Literal, Unpack

from firmware_sim.load_cell import LoadCell
from firmware_sim.pty_device import Cadence, LineFaults
from firmware_sim.pty_scale import PtyScale

_KG_DECIMALS: Final = 3
_VALUE_WIDTH: Final = 8  # including the decimal point
_MICROVOLTS_PER_G: Final = 0.5  # any fixed ratio will do for a raw display
_POINTS_PER_G: Final = 20

#: An industrial platform's cell: 30 kg, 5 g of wander while it settles.
INDICATOR_CELL: Final = LoadCell(capacity_g=30000.0, underload_g=500.0, dynamic_noise_g=5.0)


class StGsEmulator(PtyScale):
    """An ST,GS indicator on a pty. Use as a context manager or start()/stop().

    `not_level`, `display`, `cell` and the fault probabilities may be
    changed while running.
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        neighbours: Mapping[str, float] | None = None,
        mode: Literal["stream", "request"] = "stream",
        rate_hz: float = 10.0,
        commands_in_stream: bool = True,
        cell: LoadCell = INDICATOR_CELL,
        **faults: Unpack[LineFaults],
    ) -> None:
        """`rate_hz`: frames per second in stream mode (0 < rate <= 100).
        `commands_in_stream=False`: ignore commands while streaming, as some
        indicators do in continuous transmission mode. `cell`: its
        `drift_g_per_s` is creep, `ST` weights grow that many grams a second
        from the last load change (or `start()`) and stay `ST`. `faults`: see
        `PtyDevice`."""
        if not 0 < rate_hz <= 100:
            raise ValueError(f"rate_hz must be within (0, 100], got {rate_hz}")
        others = dict(neighbours or {})
        for addr in [address, *others]:
            if addr is not None and (len(addr) != 2 or not addr.isascii() or not addr.isalnum()):
                raise ValueError(f"address {addr!r} must be two ASCII letters or digits")
        if address in others:
            raise ValueError(f"address {address!r} is also a neighbour's")
        super().__init__(name="stgs", cell=cell, **faults)
        self.address = address
        self.neighbours = others
        self.mode = mode
        self.commands_in_stream = commands_in_stream
        self.not_level = False
        self.display: Literal["weight", "VL", "RZ"] = "weight"
        self._period = 1.0 / rate_hz
        self._framing = Cadence()
        self._commands: dict[str, Callable[[], None]] = {
            "READ": self._send_own_frame,
            "TARE": self._cmd_tare,
            "T": self._cmd_tare,
            "ZERO": self._cmd_zero,
            "Z": self._cmd_zero,
        }

    # -- thread hooks ----------------------------------------------------------

    def _handle_line(self, line: bytes) -> None:
        try:
            text = line.decode("ascii").strip()
        except UnicodeDecodeError:
            if self.address is None:  # on a bus nobody can tell whom it was for
                self._reply("ERR02")
            return
        if not text or (self.mode == "stream" and not self.commands_in_stream):
            return
        prefix, command = text[:2], text[2:]
        if prefix in self.neighbours and command == "READ":
            self._send(self._neighbour_frame(prefix))  # that indicator answers
            return
        if self.address is not None:
            if prefix != self.address:
                return  # for someone else, or for nobody
        else:
            command = text
        self._chatter()
        self._answer(command)

    def _tick(self, now: float) -> float:
        if self.mode != "stream":
            return float("inf")
        if self._framing.due(now, self._period):
            self._chatter()
            self._send_own_frame()
        return self._framing.wait(now)

    # -- frames ----------------------------------------------------------------

    def _answer(self, command: str) -> None:
        handler = self._commands.get(command)
        if handler is not None:
            handler()
        elif any(command.startswith(known) for known in ("READ", "TARE", "ZERO")):
            self._reply("ERR01")
        else:
            self._reply("ERR04")

    def _reply(self, code: str) -> None:
        self._send(f"{self.address or ''}{code}\r\n".encode("ascii"))

    def _frame(self) -> tuple[bytes, float | None]:
        """Our weight string and the stable grams it reports."""
        with self._lock:
            fault = self._range()
            stable = self._stable()
            net = self._net(stable)
            tared = self._tare_g != 0
        if fault is not None:
            status = "OL" if fault == "overload" else "UL"
        elif self.not_level:
            status = "TL"
        else:
            status = "ST" if stable else "US"
        addr = self.address or ""
        if self.display == "VL":
            field = f"{round(net * _MICROVOLTS_PER_G):>{_VALUE_WIDTH}d}"
            return f"{addr}{status},VL,{field},uV\r\n".encode("ascii"), None
        if self.display == "RZ":
            field = f"{round(net * _POINTS_PER_G):>{_VALUE_WIDTH}d}"
            return f"{addr}{status},RZ,{field},  \r\n".encode("ascii"), None
        kg = round(net / 1000.0, _KG_DECIMALS) + 0.0  # -0.0 would print as -0.000
        kind = "NT" if tared else "GS"
        text = f"{addr}{status},{kind},{kg:>{_VALUE_WIDTH}.{_KG_DECIMALS}f},kg\r\n"
        reported = round(kg * 1000.0, 6) if status == "ST" else None
        return text.encode("ascii"), reported

    def _send_own_frame(self) -> None:
        self._send_weight(*self._frame())

    def _neighbour_frame(self, address: str) -> bytes:
        kg = round(self.neighbours[address] / 1000.0, _KG_DECIMALS) + 0.0
        return f"{address}ST,GS,{kg:>{_VALUE_WIDTH}.{_KG_DECIMALS}f},kg\r\n".encode("ascii")

    def _chatter(self) -> None:
        """Other indicators on the bus talk first (answering some other master)."""
        for address in self.neighbours:
            self._send(self._neighbour_frame(address))

    # -- commands --------------------------------------------------------------

    def _cmd_tare(self) -> None:
        self._reply("OK" if self._act(self._tare_now) else "ERR03")

    def _cmd_zero(self) -> None:
        self._reply("OK" if self._act(self._zero_now) else "ERR03")

    def _act(self, action: Callable[[], object]) -> bool:
        """Run a tare or zero if the weight is stable and in range."""
        with self._lock:
            if self._range() is not None or not self._stable():
                return False
            action()
            return True
