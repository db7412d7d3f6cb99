"""Which site each device is registered at: the catalog's answer, cached briefly.

The collector checks every device message against it (`unknown_device`,
`site_mismatch`) without a database query per message: an answer is kept
for `ttl_s` seconds (devices can be added or moved at run time, and are seen
within that time), and at most `max_entries` answers are kept, the least
recently used going first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from vmi.errors import WireError
from vmi.wire import DeadLetterReason

Lookup = Callable[[str], str | None]


class DeviceRegistry:
    """Cached `site_of_device` lookups; `lookup` may raise `StoreUnavailable`."""

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
        self._cache: OrderedDict[str, tuple[str | None, float]] = OrderedDict()
        self.lookups = 0  # queries sent to the catalog

    def __len__(self) -> int:
        return len(self._cache)

    def sites_of(self, devices: Iterable[str]) -> dict[str, str | None]:
        """The registered site of each device (None: not registered).

        Queries the catalog only for devices not looked up within `ttl_s`.
        """
        now = self._clock()
        cache = self._cache
        found: dict[str, str | None] = {}
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


def check_registered(sites: dict[str, str | None], site: str, device: str) -> None:
    """Raise `WireError` (`unknown_device`, `site_mismatch`) unless `device` is at `site`.

    `sites`: the answer of `DeviceRegistry.sites_of` for (at least) `device`.
    """
    registered = sites.get(device)
    if registered is None:
        raise WireError(DeadLetterReason.UNKNOWN_DEVICE, f"device {device!r} is not in the catalog")
    if registered != site:
        raise WireError(
            DeadLetterReason.SITE_MISMATCH,
            f"device {device!r} is registered at site {registered!r}, not {site!r}",
        )
