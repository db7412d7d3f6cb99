"""A serial scale on a pty: `PtyDevice` plus the load cell every weighing emulator shares.

`set_load()` sets the gross weight; a change makes the scale unstable for the
cell's `settle_s` seconds. How the cell weighs (capacity and underload
limits, settling, noise, creep) is its `LoadCell` (`firmware_sim.load_cell`);
zero and tare are kept here. Subclasses speak one protocol each.
"""

from __future__ import annotations

from typing import Literal, Unpack

from firmware_sim.load_cell import LoadCell, LoadedCell
from firmware_sim.pty_device import LineFaults, PtyDevice

OutOfRange = Literal["overload", "underload"]


class PtyScale(PtyDevice):
    """A `PtyDevice` with a load cell: gross load, zero, tare, settling, noise, creep.

    Weights are grams. `cell` and the fault probabilities may be changed
    while running.
    """

    def __init__(self, *, name: str, cell: LoadCell, **faults: Unpack[LineFaults]) -> None:
        """`cell`: how the load cell weighs; `faults`: the line's, see `PtyDevice`."""
        super().__init__(name=name, **faults)
        self._loaded = LoadedCell(cell)
        self._zero_g = 0.0  # load cell reading that shows as zero
        self._tare_g = 0.0
        self._reported: list[float] = []

    @property
    def cell(self) -> LoadCell:
        """How the load cell weighs. Replace it, e.g. with
        `dataclasses.replace(emu.cell, settle_s=30.0)`, to change that while running."""
        return self._loaded.cell

    @cell.setter
    def cell(self, cell: LoadCell) -> None:
        self._loaded.cell = cell  # one reference: swapped whole, no lock needed

    def set_load(self, grams: float) -> None:
        """Set the gross load; a change makes the scale unstable for `settle_s`
        and starts creep afresh."""
        with self._lock:
            self._loaded.set_load(grams)

    @property
    def load_g(self) -> float:
        """The gross load last set."""
        with self._lock:
            return self._loaded.gross_g

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

    def _on_start(self) -> None:
        """Creep counts from power-up until the load first changes."""
        with self._lock:
            self._loaded.power_up()

    # -- for subclasses (call with _lock held, except _send_weight) -------------

    def _stable(self) -> bool:
        return self._loaded.stable()

    def _settles_in(self) -> float:
        """Seconds until the load is stable (0 when it is)."""
        return self._loaded.settles_in()

    def _cell_g(self) -> float:
        """What the load cell reads now: the gross load plus creep, no noise."""
        return self._loaded.reading_g()

    def _range(self) -> OutOfRange | None:
        """Whether the load is outside the weighing range, else None."""
        raw = self._cell_g() - self._zero_g
        if raw > self.cell.capacity_g:
            return "overload"
        if raw < -self.cell.underload_g:
            return "underload"
        return None

    def _noise(self, stable: bool) -> float:
        """One noise sample (`LoadCell.noise`)."""
        return self.cell.noise(self._rng, stable=stable)

    def _net(self, stable: bool) -> float:
        """The net weight in grams with noise, not rounded."""
        noise = self._noise(stable)
        return self._cell_g() - self._zero_g - self._tare_g + noise

    def _zero_now(self) -> None:
        """Zero at the current load; zeroing clears the tare, as on real scales."""
        self._zero_g = self._cell_g()
        self._tare_g = 0.0

    def _tare_now(self) -> float:
        """Tare the current (noise-free) net load; return the tare in grams."""
        self._tare_g = self._cell_g() - self._zero_g
        return self._tare_g

    def _send_weight(self, data: bytes, stable_g: float | None) -> bool:
        """Send a weight line; log `stable_g` (if any) when it goes out intact."""

        def log() -> None:
            if stable_g is not None:
                with self._lock:
                    self._reported.append(stable_g)

        return self._send(data, on_intact=log)
