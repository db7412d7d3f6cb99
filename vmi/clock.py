"""Clocks. Production uses wall time; the demo and simulations run faster.

Every component that stamps or compares times takes a `Clock`, so the demo can
run a whole simulated day in seconds with realistic per-day figures.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware (UTC)."""
        ...

    @property
    def speed(self) -> float:
        """Simulated seconds per real second (1.0 for wall time)."""
        ...


class SystemClock:
    """Wall-clock time."""

    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """Time that starts at `start` and runs `speed` times faster than real time."""

    def __init__(self, *, speed: float, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed = speed
        self._start = start or datetime.now(UTC)
        self._t0 = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._t0) * self._speed)
