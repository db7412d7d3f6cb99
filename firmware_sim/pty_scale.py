"""A serial scale on a pty: `PtyDevice` plus the load cell every weighing emulator shares.

`set_load()` sets the gross weight; a change makes the scale unstable for
`settle_s` seconds. Zero, tare, capacity and underload limits, noise, and
creep: with `drift_g_per_s` the reading grows that many grams a second from
the last load change (or `start()`) while the scale stays stable, as a real
load cell creeps under a constant load. Subclasses speak one protocol each.
"""

from __future__ import annotations

import math
import time
from typing import Literal

from firmware_sim.pty_device import PtyDevice

OutOfRange = Literal["overload", "underload"]


class PtyScale(PtyDevice):
    """A `PtyDevice` with a load cell: gross load, zero, tare, settling, noise, creep.

    Weights are grams. `settle_s`, `noise_g`, `dynamic_noise_g`,
    `drift_g_per_s` and the fault probabilities may be changed while running.
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
        drift_g_per_s: float = 0.0,
        garbage_probability: float = 0.0,
        drop_probability: float = 0.0,
        line_time_s: float = 0.0,
        seed: int = 0,
    ) -> None:
        """`underload_g`: readings below minus this are underload.
        `noise_g`: standard deviation of stable readings; `dynamic_noise_g`:
        spread of readings while unstable. `drift_g_per_s`: creep, the reading
        grows this many grams a second (negative: shrinks) from the last load
        change or `start()`, while the scale stays stable."""
        if capacity_g <= 0 or underload_g < 0 or settle_s < 0:
            raise ValueError("capacity must be positive; underload and settle_s not negative")
        if not math.isfinite(drift_g_per_s):
            raise ValueError(f"drift_g_per_s must be finite, got {drift_g_per_s}")
        super().__init__(
            name=name,
            garbage_probability=garbage_probability,
            drop_probability=drop_probability,
            line_time_s=line_time_s,
            seed=seed,
        )
        self.capacity_g = capacity_g
        self.underload_g = underload_g
        self.settle_s = settle_s
        self.noise_g = noise_g
        self.dynamic_noise_g = dynamic_noise_g
        self.drift_g_per_s = drift_g_per_s
        self._gross_g = 0.0
        self._zero_g = 0.0  # load cell reading that shows as zero
        self._tare_g = 0.0
        self._changed_at = -math.inf  # monotonic time of the last load change
        self._creep_from = time.monotonic()  # creep counts from here
        self._reported: list[float] = []

    def set_load(self, grams: float) -> None:
        """Set the gross load; a change makes the scale unstable for `settle_s`
        and starts creep afresh."""
        with self._lock:
            if grams != self._gross_g:
                self._gross_g = grams
                self._changed_at = self._creep_from = time.monotonic()

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

    def _on_start(self) -> None:
        """Creep counts from power-up until the load first changes."""
        with self._lock:
            self._creep_from = time.monotonic()

    # -- for subclasses (call with _lock held, except _send_weight) -------------

    def _stable(self) -> bool:
        return time.monotonic() - self._changed_at >= self.settle_s

    def _settles_in(self) -> float:
        """Seconds until the load is stable (0 when it is)."""
        return max(0.0, self._changed_at + self.settle_s - time.monotonic())

    def _cell_g(self) -> float:
        """What the load cell reads now: the gross load plus creep, no noise."""
        if not self.drift_g_per_s:
            return self._gross_g
        return self._gross_g + self.drift_g_per_s * (time.monotonic() - self._creep_from)

    def _range(self) -> OutOfRange | None:
        """Whether the load is outside the weighing range, else None."""
        raw = self._cell_g() - self._zero_g
        if raw > self.capacity_g:
            return "overload"
        if raw < -self.underload_g:
            return "underload"
        return None

    def _noise(self, stable: bool) -> float:
        """One noise sample: normal with `noise_g` when stable, else uniform
        within `dynamic_noise_g`."""
        if stable:
            return self._rng.gauss(0.0, self.noise_g) if self.noise_g > 0 else 0.0
        return self._rng.uniform(-self.dynamic_noise_g, self.dynamic_noise_g)

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
