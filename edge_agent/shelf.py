"""What a weighed shelf holds and what happened to it. Pure: samples in, outputs out.

A `ShelfTracker` takes the weight samples of one scale and decides:

- when a weight counts: only once it has settled (the last `settle_samples`
  stable samples agree within `settle_tolerance_g`), so a hand on the shelf or
  a swinging bin never becomes stock;
- how many units that is: net weight (gross - tare - creep, times the span
  calibration factor) over the item weight, rounded, with a confidence; a
  count far from a whole number flags a calibration or item-weight problem;
- what changed: fewer units is a pick, more a refill; a slow change of the
  empty-shelf weight while the count stays put is load-cell creep, which is
  compensated (auto-zero tracking) up to a limit and reported as drift;
- overload and underload are faults, not stock.

Events fire once per episode (the first uncertain count, the first overload),
not on every sample, so a stuck condition does not flood the broker.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

from edge_agent.stock import UnitCount, units_from_weight
from vmi.wire import EventKind


@dataclass(frozen=True, slots=True)
class ShelfSettings:
    item_weight_g: float
    tare_g: float = 0.0
    span: float = 1.0  # calibration factor applied to the net weight
    settle_samples: int = 3
    settle_tolerance_g: float | None = None  # default: a quarter of an item
    min_confidence: float = 0.5  # below: the count is flagged uncertain
    creep_alpha: float = 0.1  # share of the residual folded into the zero per settled sample
    creep_limit_items: float = 0.4  # never compensate more than this many items of weight
    drift_event_items: float = 0.2  # report drift once compensation passes this

    @property
    def tolerance_g(self) -> float:
        if self.settle_tolerance_g is not None:
            return self.settle_tolerance_g
        return self.item_weight_g / 4


@dataclass(frozen=True, slots=True)
class ShelfLevel:
    """A settled count of units on the shelf."""

    quantity: int
    confidence: float
    gross_g: float


@dataclass(frozen=True, slots=True)
class ShelfEvent:
    kind: EventKind
    quantity: float | None = None
    detail: str = ""


ShelfOutput = ShelfLevel | ShelfEvent


class ShelfTracker:
    """The state of one weighed shelf; feed it samples, read levels and events."""

    def __init__(self, settings: ShelfSettings) -> None:
        self.settings = settings
        self._window: deque[float] = deque(maxlen=settings.settle_samples)
        self._count: int | None = None
        self._creep_g = 0.0  # compensated drift of the empty-shelf weight
        self._drift_reported = False
        self._uncertain = False
        self._fault: str | None = None
        self._settled_g: float | None = None

    @property
    def creep_g(self) -> float:
        return self._creep_g

    @property
    def settled_g(self) -> float | None:
        """The last settled gross weight, while the shelf stays settled; else None."""
        return self._settled_g

    def fault(self, reason: str) -> list[ShelfOutput]:
        """The scale reports a fault (overload, underload, error reply)."""
        self._window.clear()
        if reason == self._fault:
            return []
        self._fault = reason
        self._settled_g = None
        return [ShelfEvent(EventKind.FAULT, detail=reason)]

    def sample(self, grams: float, *, stable: bool) -> list[ShelfOutput]:
        """One weight sample; returns a level when the weight has settled, plus events."""
        out: list[ShelfOutput] = []
        if self._fault is not None:
            out.append(ShelfEvent(EventKind.FAULT, detail=f"cleared: {self._fault}"))
            self._fault = None
        self._settled_g = None
        if not stable:
            self._window.clear()
            return out
        self._window.append(grams)
        s = self.settings
        if len(self._window) < s.settle_samples or (
            max(self._window) - min(self._window) > s.tolerance_g
        ):
            return out
        settled = sum(self._window) / len(self._window)
        self._settled_g = settled
        count = self._count_of(settled)
        out += self._classify(count)
        if count.quantity == self._count:
            out += self._track_creep(count)
        self._count = count.quantity
        out += self._check_confidence(count)
        out.append(ShelfLevel(count.quantity, round(count.confidence, 3), round(settled, 3)))
        return out

    def recalibrate(self, *, tare_g: float, span: float) -> None:
        """New tare and span (by command): forget compensated creep, settle afresh."""
        self.settings = replace(self.settings, tare_g=tare_g, span=span)
        self._creep_g = 0.0
        self._drift_reported = False
        self._window.clear()
        self._settled_g = None

    def _count_of(self, gross_g: float) -> UnitCount:
        s = self.settings
        net_g = (gross_g - s.tare_g - self._creep_g) * s.span
        return units_from_weight(net_g, tare_g=0.0, item_weight_g=s.item_weight_g)

    def _classify(self, count: UnitCount) -> list[ShelfOutput]:
        if self._count is None or count.quantity == self._count:
            return []
        change = count.quantity - self._count
        kind = EventKind.REFILL if change > 0 else EventKind.PICK
        return [
            ShelfEvent(
                kind, quantity=float(abs(change)), detail=f"{self._count} -> {count.quantity}"
            )
        ]

    def _track_creep(self, count: UnitCount) -> list[ShelfOutput]:
        # The count did not change, so the residual off the whole number is
        # creep (or temperature): fold a little of it into the zero.
        s = self.settings
        residual_g = (count.exact - count.quantity) * s.item_weight_g / s.span
        limit = s.creep_limit_items * s.item_weight_g
        self._creep_g = max(-limit, min(limit, self._creep_g + s.creep_alpha * residual_g))
        if abs(self._creep_g) >= s.drift_event_items * s.item_weight_g:
            if not self._drift_reported:
                self._drift_reported = True
                return [
                    ShelfEvent(
                        EventKind.DRIFT,
                        quantity=round(self._creep_g, 3),
                        detail=f"empty-shelf weight drifted {self._creep_g:+.1f} g, re-tare",
                    )
                ]
        else:
            self._drift_reported = False
        return []

    def _check_confidence(self, count: UnitCount) -> list[ShelfOutput]:
        if count.confidence >= self.settings.min_confidence:
            self._uncertain = False
            return []
        if self._uncertain:
            return []
        self._uncertain = True
        return [
            ShelfEvent(
                EventKind.COUNT_UNCERTAIN,
                quantity=round(count.exact, 3),
                detail=f"{count.exact:.2f} items by weight: check item weight or calibration",
            )
        ]
