"""The load cell every emulated scale weighs with: range, settling, noise and creep.

`LoadCell` says how a cell weighs; it is frozen, and an emulator's `cell` is
replaced as a whole (`dataclasses.replace`) to change it while running.
`LoadedCell` is what is on the cell now: the gross load, when it last changed
(the reading is unstable for `settle_s` after) and since when it creeps. The
serial scale emulators (`firmware_sim.pty_scale.PtyScale`) and the Tasmota
HX711 node (`firmware_sim.tasmota_node`) share both.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadCell:
    """How an emulated load cell weighs, in grams and seconds.

    `capacity_g`: the rated capacity, which every cell is sold by, so it has
    no default; loads above it read as overload. `underload_g`: readings
    below minus it are underload. `settle_s`: how long a load change keeps
    the reading unstable. `noise_g`: standard deviation of stable readings;
    `dynamic_noise_g`: spread of readings while unstable. `drift_g_per_s`:
    creep, the reading grows this many grams a second (negative: shrinks)
    from the last load change while it stays stable, as a real load cell
    creeps under a constant load.
    """

    capacity_g: float
    underload_g: float = 50.0
    settle_s: float = 0.3
    noise_g: float = 0.0
    dynamic_noise_g: float = 2.0
    drift_g_per_s: float = 0.0

    def __post_init__(self) -> None:
        if self.capacity_g <= 0 or self.underload_g < 0 or self.settle_s < 0:
            raise ValueError("capacity must be positive; underload and settle_s not negative")
        if self.noise_g < 0 or self.dynamic_noise_g < 0:
            raise ValueError("noise_g and dynamic_noise_g must not be negative")
        if not math.isfinite(self.drift_g_per_s):
            raise ValueError(f"drift_g_per_s must be finite, got {self.drift_g_per_s}")

    def noise(self, rng: random.Random, *, stable: bool) -> float:
        """One noise sample from `rng`: normal with `noise_g` when stable
        (no draw when that is 0), else uniform within `dynamic_noise_g`."""
        if stable:
            return rng.gauss(0.0, self.noise_g) if self.noise_g > 0 else 0.0
        return rng.uniform(-self.dynamic_noise_g, self.dynamic_noise_g)


#: A bench balance's cell: 6.2 kg, settles in 0.3 s, 2 g of wander while it
#: does. The emulators' default, but for the ST,GS indicator's and the
#: OpenScale board's; `dataclasses.replace` it for another.
DEFAULT_CELL: Final = LoadCell(capacity_g=6200.0)


class LoadedCell:
    """A load cell with a load on it: the gross load, when it last changed,
    and since when it creeps.

    Not thread-safe: the emulator that owns it holds its lock around every
    call. `cell` may be replaced at any time.
    """

    def __init__(self, cell: LoadCell) -> None:
        self.cell = cell
        self._gross_g = 0.0
        self._changed_at = -math.inf  # monotonic time of the last load change
        self._creep_from = time.monotonic()  # creep counts from here

    @property
    def gross_g(self) -> float:
        """The gross load last set."""
        return self._gross_g

    def set_load(self, grams: float) -> bool:
        """Put `grams` (gross) on the cell. True when that changed the load:
        the reading is then unstable for `settle_s`, and creep starts afresh."""
        if grams == self._gross_g:
            return False
        self._gross_g = grams
        self._changed_at = self._creep_from = time.monotonic()
        return True

    def power_up(self) -> None:
        """Creep counts from now until the load first changes."""
        self._creep_from = time.monotonic()

    def reading_g(self) -> float:
        """What the cell reads now: the gross load plus creep, no noise."""
        drift = self.cell.drift_g_per_s
        if not drift:
            return self._gross_g
        return self._gross_g + drift * (time.monotonic() - self._creep_from)

    def stable(self) -> bool:
        """True once `settle_s` has passed since the last load change."""
        return time.monotonic() - self._changed_at >= self.cell.settle_s

    def settles_in(self) -> float:
        """Seconds until the reading is stable (0 when it is)."""
        return max(0.0, self._changed_at + self.cell.settle_s - time.monotonic())
