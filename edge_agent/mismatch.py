"""Weight and RFID disagreeing about the same shelf. Pure.

When a location has both a scale and a reader for a SKU, the two counts should
agree once things settle. A disagreement that lasts `grace_s` (picks are seen
by the scale before the tag leaves the reader's field) is reported once, and
again only after the two have agreed in between.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mismatch:
    location: str
    sku: str
    by_weight: float
    by_rfid: float

    @property
    def detail(self) -> str:
        return f"scale counts {self.by_weight:g}, RFID counts {self.by_rfid:g}"


class MismatchDetector:
    def __init__(self, *, grace_s: float) -> None:
        self.grace_s = grace_s
        self._levels: dict[tuple[str, str, str], float] = {}
        self._since: dict[tuple[str, str], float] = {}
        self._reported: set[tuple[str, str]] = set()

    def update(self, location: str, sku: str, source: str, quantity: float) -> None:
        """Record the latest level of one source (`scale` or `rfid`)."""
        self._levels[(location, sku, source)] = quantity

    def check(self, now_s: float) -> list[Mismatch]:
        """Mismatches that have lasted `grace_s` and were not reported yet."""
        found: list[Mismatch] = []
        for (location, sku, source), by_weight in list(self._levels.items()):
            if source != "scale":
                continue
            key = (location, sku)
            by_rfid = self._levels.get((location, sku, "rfid"))
            if by_rfid is None or by_rfid == by_weight:
                self._since.pop(key, None)
                self._reported.discard(key)
                continue
            since = self._since.setdefault(key, now_s)
            if now_s - since >= self.grace_s and key not in self._reported:
                self._reported.add(key)
                found.append(Mismatch(location, sku, by_weight, by_rfid))
        return found
