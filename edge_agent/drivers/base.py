"""Types shared by all drivers: what they return, how the agent calls them, what they count."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable


@dataclass(slots=True)
class FrameStats:
    """Counters of one device's traffic since its driver was created.

    The counters every serial driver keeps; a driver with more to count
    subclasses this (`stgs` adds `foreign`, `openscale` `banner`, `chafon`
    its inventory rounds).
    """

    ok: int = 0  # frames or replies that parsed and were used
    bad: int = 0  # garbage (FrameError raised)
    stale: int = 0  # well-formed frames answering something else, skipped
    timeouts: int = 0  # waits that reached the deadline without a frame


@dataclass(frozen=True, slots=True)
class WeightSample:
    """One weight read from a scale, converted to grams."""

    grams: float
    stable: bool


@runtime_checkable
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


@dataclass(frozen=True, slots=True)
class TagRead:
    """One RFID tag seen by a reader.

    `tag_id` is upper-case hex: the EPC for UHF tags; for EM4100 tags the
    10-hex-digit id (version/customer byte + 32-bit id) from a serial reader,
    but the 8-digit 32-bit id from a Tasmota RDM6300 node, which drops the
    version byte. Tag maps must use the form their reader reports.
    """

    tag_id: str
    rssi: int | None = None  # reader's signal strength, where it reports one
    antenna: int | None = None


@runtime_checkable
class TagDriver(Protocol):
    """An RFID reader the agent can poll. Opening may fail and is retried by the caller."""

    name: str

    def open(self) -> None:
        """Open the device. Raises `DeviceUnavailable`."""
        ...

    def read_tags(self) -> list[TagRead]:
        """Tags seen since the last call (or one inventory round); [] when none.

        Repeats of the same tag within one call are reported once. Raises
        `DriverError`; bad frames are counted and skipped, never returned.
        """
        ...

    def close(self) -> None:
        """Close the device; safe to call twice."""
        ...


class DeviceSession:
    """`with driver:` opens the device and closes it on the way out.

    Drivers inherit this and define `open()` and `close()`.
    """

    def open(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
