"""Types shared by all weight drivers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WeightSample:
    """One weight read from a scale, converted to grams."""

    grams: float
    stable: bool


class WeightDriver(Protocol):
    """A scale the agent can poll. Opening may fail and is retried by the caller."""

    name: str

    def open(self) -> None:
        """Open the device. Raises `DeviceUnavailable`."""
        ...

    def read_weight(self) -> WeightSample | None:
        """Ask for one weight. None when the device answered but has no usable weight
        now (busy, overload shown as a fault elsewhere). Raises `DriverError`."""
        ...

    def tare(self) -> float:
        """Tare the scale; return the tare weight in grams."""
        ...

    def zero(self) -> None:
        """Zero the scale."""
        ...

    def close(self) -> None:
        """Close the device; safe to call twice."""
        ...
