"""The whole comparison: the project policy, both baselines as configured, both tuned.

The project policy runs at its fill-rate target and, for the fill-rate/stock
curve, at a few other (fill rate, cycle service floor) settings. Each baseline
runs as configured (safety factor 0.5) and is then tuned to the fill rate the
project reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from firmware_sim.evaluate.metrics import Metrics, measure
from firmware_sim.evaluate.policies import ErpnextReorder, OdooMinMax, ProjectPolicy
from firmware_sim.evaluate.scenario import Scenario
from firmware_sim.evaluate.simulate import Policy, Progress, Run, simulate
from firmware_sim.evaluate.tuning import (
    TUNING_ITERATIONS,
    CurvePoint,
    Tuned,
    tune_to_fill_rate,
)

DEFAULT_SAFETY_FACTOR = 0.5  # the rule of thumb: safety stock = half the lead-time demand
# (fill-rate target, cycle service level floor) of the project policy's curve
FRONTIER_SETTINGS = ((0.95, 0.5), (0.97, 0.7), (0.98, 0.8), (0.995, 0.95), (0.998, 0.98))
BASELINES: tuple[Callable[[Scenario, float], Policy], ...] = (
    OdooMinMax.from_history,
    ErpnextReorder.from_history,
)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Runs and metrics of every policy; the tuned baselines reach the project's fill rate."""

    scenario: Scenario
    fill_rate_target: float
    service_level: float  # the project policy's floor on the cycle service level
    project: tuple[Run, Metrics]
    project_curve: tuple[CurvePoint, ...]  # parameter: the policy's fill-rate target
    baselines: dict[str, tuple[Run, Metrics]]  # as configured (DEFAULT_SAFETY_FACTOR)
    tuned: dict[str, Tuned]  # tuned to the project's fill rate; curve parameter: safety factor

    @property
    def aim_met(self) -> bool:
        """Project fill rate >= the target, with less stock than every tuned baseline."""
        m = self.project[1]
        return m.fill_rate >= self.fill_rate_target and all(
            t.reached and m.avg_on_hand_days < t.metrics.avg_on_hand_days
            for t in self.tuned.values()
        )


def planned_days(scenario: Scenario, *, frontier: bool = True) -> int:
    """Simulated days `evaluate` plans to run (for a progress bar's total)."""
    runs = 1 + (len(FRONTIER_SETTINGS) if frontier else 0)
    runs += len(BASELINES) * (2 + TUNING_ITERATIONS)
    return runs * scenario.days


def evaluate(
    scenario: Scenario,
    *,
    fill_rate: float = 0.99,
    service_level: float = 0.9,
    frontier: bool = True,
    progress: Progress | None = None,
) -> Evaluation:
    """Run the project policy aiming at `fill_rate` (and at least `service_level` per
    cycle), then each baseline as configured and tuned to the fill rate the project reached."""

    def run_project(target: float, floor: float) -> tuple[Run, Metrics]:
        policy = ProjectPolicy(scenario, fill_rate=target, service_level=floor)
        run = simulate(scenario, policy, progress=progress)
        return run, measure(run, scenario)

    project = run_project(fill_rate, service_level)
    curve = [CurvePoint(fill_rate, project[1])]
    if frontier:
        curve += [CurvePoint(f, run_project(f, s)[1]) for f, s in FRONTIER_SETTINGS]
    baselines: dict[str, tuple[Run, Metrics]] = {}
    tuned: dict[str, Tuned] = {}
    for make in BASELINES:
        policy = make(scenario, DEFAULT_SAFETY_FACTOR)
        run = simulate(scenario, policy, progress=progress)
        baselines[policy.name] = (run, measure(run, scenario))
        tuned[policy.name] = tune_to_fill_rate(
            scenario,
            lambda k, make=make: make(scenario, k),  # type: ignore[misc]
            project[1].fill_rate,
            start=DEFAULT_SAFETY_FACTOR,
            progress=progress,
        )
    return Evaluation(
        scenario,
        fill_rate,
        service_level,
        project,
        tuple(sorted(curve, key=lambda p: p.parameter)),
        baselines,
        tuned,
    )
