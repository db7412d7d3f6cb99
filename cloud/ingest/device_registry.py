"""Where each device is registered and what it may report: the catalog's answer,
cached briefly.

The collector checks every device message against it (`unknown_device`,
`site_mismatch`, and `not_bound` for a reading of a (location, SKU) the device
is not bound to) without a database query per message: an answer is kept
for `ttl_s` seconds (devices can be added or moved at run time, and are seen
within that time), and at most `max_entries` answers are kept, the least
recently used going first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cloud.catalog import Catalog, DeviceSpec
from vmi.errors import WireError
from vmi.wire import DeadLetterReason, EventsBatch, ReadingsBatch


@dataclass(frozen=True, slots=True)
class Registration:
    """A device's site and the (location, SKU)s it is bound to report."""

    site: str
    bindings: frozenset[tuple[str, str]]

    @property
    def locations(self) -> frozenset[str]:
        return frozenset(location for location, _ in self.bindings)


Lookup = Callable[[str], Registration | None]


def catalog_lookup(catalog: Catalog) -> Lookup:
    """Look devices up in `catalog`: one query per device (its entry and bindings)."""

    def lookup(device: str) -> Registration | None:
        found = catalog.find(DeviceSpec, device)
        if found is None:
            return None
        return Registration(found.site, frozenset((b.location, b.sku) for b in found.bindings))

    return lookup


class DeviceRegistry:
    """Cached device lookups (`catalog_lookup`); `lookup` may raise `StoreUnavailable`."""

    def __init__(
        self,
        lookup: Lookup,
        *,
        ttl_s: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0 or max_entries < 1:
            raise ValueError("ttl_s must be positive and max_entries at least 1")
        self._lookup = lookup
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._cache: OrderedDict[str, tuple[Registration | None, float]] = OrderedDict()
        self.lookups = 0  # queries sent to the catalog

    def __len__(self) -> int:
        return len(self._cache)

    def registrations_of(self, devices: Iterable[str]) -> dict[str, Registration | None]:
        """The registration of each device (None: not registered).

        Queries the catalog only for devices not looked up within `ttl_s`.
        """
        now = self._clock()
        cache = self._cache
        found: dict[str, Registration | None] = {}
        for device in devices:
            entry = cache.get(device)
            if entry is None or entry[1] <= now:
                self.lookups += 1
                entry = (self._lookup(device), now + self._ttl_s)
                cache[device] = entry
                if len(cache) > self._max_entries:
                    cache.popitem(last=False)
            cache.move_to_end(device)
            found[device] = entry[0]
        return found


def check_registered(
    registered: dict[str, Registration | None], site: str, device: str
) -> Registration:
    """`device`'s registration; `WireError` (`unknown_device`, `site_mismatch`) unless
    it is registered at `site`.

    `registered`: the answer of `DeviceRegistry.registrations_of` for (at least) `device`.
    """
    registration = registered.get(device)
    if registration is None:
        raise WireError(DeadLetterReason.UNKNOWN_DEVICE, f"device {device!r} is not in the catalog")
    if registration.site != site:
        raise WireError(
            DeadLetterReason.SITE_MISMATCH,
            f"device {device!r} is registered at site {registration.site!r}, not {site!r}",
        )
    return registration


def check_bound_readings(registration: Registration, batch: ReadingsBatch) -> None:
    """`WireError` (`not_bound`) unless every reading is of a (location, SKU) the device
    is bound to."""
    for reading in batch.readings:
        if (reading.location, reading.sku) not in registration.bindings:
            raise WireError(
                DeadLetterReason.NOT_BOUND,
                f"device {batch.device!r} is not bound to {reading.sku!r} at "
                f"{reading.location!r} (its bindings: {_shown(registration)})",
            )


def check_bound_events(registration: Registration, batch: EventsBatch) -> None:
    """`WireError` (`not_bound`) for an event naming a (location, SKU) or a location the
    device is not bound to; events about the device itself (no location) pass."""
    for event in batch.events:
        if event.location is None:
            continue
        bound = (
            (event.location, event.sku) in registration.bindings
            if event.sku is not None
            else event.location in registration.locations
        )
        if not bound:
            raise WireError(
                DeadLetterReason.NOT_BOUND,
                f"device {batch.device!r} is not bound to {event.sku or 'anything'!r} at "
                f"{event.location!r} (its bindings: {_shown(registration)})",
            )


def _shown(registration: Registration) -> str:
    pairs = sorted(registration.bindings)
    shown = ", ".join(f"{sku}@{location}" for location, sku in pairs[:10])
    return (shown + (", ..." if len(pairs) > 10 else "")) or "none"
