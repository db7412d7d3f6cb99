"""Which tagged items are on a shelf: presence windows and counts per SKU. Pure.

Readers report a tag every time it answers; a tag counts as present while it
was seen within `window_s`. Cheap readers produce ghost reads that pass their
checksum, so a tag must be seen `min_sightings` times within the window
before it counts. Tags resolve to SKUs through the configured tag map, or, for
GS1 SGTIN-96 EPCs, through their GTIN-14 (mapped, or used as the SKU itself).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from edge_agent.rfid.epc import EpcError, decode_sgtin96


@dataclass
class TagResolver:
    """Tag id -> SKU. Unknown tags resolve to None and are counted by the caller."""

    tag_map: dict[str, str] = field(default_factory=dict)
    gtin_map: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tag_map = {k.upper(): v for k, v in self.tag_map.items()}

    def sku_of(self, tag_id: str) -> str | None:
        tag = tag_id.upper()
        if tag in self.tag_map:
            return self.tag_map[tag]
        if len(tag) == 24 and tag.startswith("30"):
            try:
                gtin = decode_sgtin96(tag).gtin14
            except EpcError:
                return None
            return self.gtin_map.get(gtin, gtin)
        return None


class TagPresence:
    """Sightings per tag; what is present now; counts per SKU."""

    def __init__(self, *, window_s: float, min_sightings: int = 2) -> None:
        if window_s <= 0 or min_sightings < 1:
            raise ValueError("window_s must be positive and min_sightings at least 1")
        self.window_s = window_s
        self.min_sightings = min_sightings
        self._seen: dict[str, deque[float]] = {}

    def seen(self, tag_id: str, now_s: float) -> None:
        sightings = self._seen.setdefault(tag_id.upper(), deque(maxlen=self.min_sightings))
        sightings.append(now_s)

    def present(self, now_s: float) -> set[str]:
        """Tags seen `min_sightings` times, the last within the window; forgets the rest."""
        horizon = now_s - self.window_s
        for tag in [t for t, s in self._seen.items() if s[-1] < horizon]:
            del self._seen[tag]
        return {
            t
            for t, s in self._seen.items()
            if len(s) >= self.min_sightings and s[0] >= horizon - self.window_s
        }

    def counts(self, now_s: float, resolver: TagResolver) -> tuple[Counter[str], set[str]]:
        """Units present per SKU, and the present tags no SKU is known for."""
        counts: Counter[str] = Counter()
        unknown: set[str] = set()
        for tag in self.present(now_s):
            sku = resolver.sku_of(tag)
            if sku is None:
                unknown.add(tag)
            else:
                counts[sku] += 1
        return counts, unknown
