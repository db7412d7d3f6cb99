"""Weight to stock: pure conversions and the publish decision.

No I/O here; the agent feeds weight samples in and gets stock levels out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UnitCount:
    """Units on a shelf derived from its net weight."""

    quantity: int
    exact: float  # net weight / item weight, before rounding
    confidence: float  # 1.0 on an integer, 0.0 half-way between two integers


def units_from_weight(gross_g: float, *, tare_g: float, item_weight_g: float) -> UnitCount:
    """Count units from a gross weight; a small negative net (noise) counts as zero."""
    if item_weight_g <= 0:
        raise ValueError("item weight must be positive")
    exact = max(0.0, (gross_g - tare_g) / item_weight_g)
    quantity = round(exact)
    return UnitCount(quantity, exact, 1.0 - 2.0 * abs(exact - quantity))


class LevelChange:
    """Decides when a level is worth publishing: on change, or as a heartbeat.

    Levels are absolute, so republishing an unchanged one is harmless; the
    heartbeat keeps the cloud's view fresh and shows the device is alive.
    """

    def __init__(self, *, heartbeat_s: float) -> None:
        self._heartbeat_s = heartbeat_s
        self._last: int | None = None
        self._last_at = float("-inf")

    def should_publish(self, quantity: int, now_s: float) -> bool:
        """True if `quantity` observed at monotonic time `now_s` should be published."""
        if quantity != self._last or now_s - self._last_at >= self._heartbeat_s:
            self._last = quantity
            self._last_at = now_s
            return True
        return False
