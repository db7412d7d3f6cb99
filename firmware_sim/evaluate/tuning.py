"""Tune a baseline to a fill rate: the smallest safety factor that reaches it.

The safety factor scales the baseline's reorder level (lead-time demand x
(1 + factor)). Fill rate grows with it (the same demand and lead times every
run), so a bracket and a bisection find the smallest factor that reaches the
target; every run on the way is kept as a point of the fill-rate/stock curve.
The bisection ends with a bracket: the run reaching the target and the run
with the largest factor that fell short of it (`below`), whose fill rate is
just under the target. Comparisons that must hold "at the same fill rate"
use whichever end is harder for the other side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from firmware_sim.evaluate.metrics import Metrics, measure
from firmware_sim.evaluate.scenario import Scenario
from firmware_sim.evaluate.simulate import Policy, Progress, Run, simulate

MAX_FACTOR = 64.0
TUNING_ITERATIONS = 10


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One run of a policy with one value of its tuning parameter."""

    parameter: float
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class Tuned:
    """The smallest safety factor found reaching the target, and every point tried."""

    safety_factor: float
    run: Run
    metrics: Metrics
    reached: bool  # False: even MAX_FACTOR fell short (the best run is returned)
    curve: tuple[CurvePoint, ...]
    below: Metrics | None  # the bracket's lower end: the largest factor short of the target


def tune_to_fill_rate(
    scenario: Scenario,
    make_policy: Callable[[float], Policy],
    target: float,
    *,
    start: float = 0.5,
    iterations: int = TUNING_ITERATIONS,
    progress: Progress | None = None,
) -> Tuned:
    """Search the safety factor of `make_policy(factor)` until its fill rate reaches `target`.

    Plans 1 + `iterations` runs; each widening of the bracket adds one to
    `progress.total`.
    """
    curve: list[CurvePoint] = []
    runs: dict[float, tuple[Run, Metrics]] = {}

    def attempt(factor: float) -> bool:
        run = simulate(scenario, make_policy(factor), progress=progress)
        m = measure(run, scenario)
        runs[factor] = (run, m)
        curve.append(CurvePoint(factor, m))
        return m.fill_rate >= target

    lo, hi = -0.5, start
    while not attempt(hi):
        lo, hi = hi, hi * 2.0 if hi > 0 else 1.0
        if progress is not None and progress.total is not None:
            progress.total += scenario.days  # a run more than planned
        if hi > MAX_FACTOR:
            best = max(runs, key=lambda f: runs[f][1].fill_rate)
            return Tuned(best, *runs[best], False, _sorted(curve), None)
    for _ in range(iterations):
        mid = (lo + hi) / 2.0
        if attempt(mid):
            hi = mid
        else:
            lo = mid
    below = runs[lo][1] if lo in runs else None
    return Tuned(hi, *runs[hi], True, _sorted(curve), below)


def _sorted(curve: list[CurvePoint]) -> tuple[CurvePoint, ...]:
    return tuple(sorted(curve, key=lambda p: p.parameter))
