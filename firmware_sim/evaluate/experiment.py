"""The whole comparison: the project policy, both baselines as configured, both tuned.

The project policy is the shipped engine (`firmware_sim.evaluate.engine`) on a
replenishment config (the shipped defaults unless given); for the
fill-rate/stock curve it also runs with a few other (fill-rate target, cycle
service level) settings in that config. Each baseline runs as configured
(safety factor 0.5) and is then tuned to the fill rate the project reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cloud.config import ReplenishmentConfig
from firmware_sim.evaluate.engine import ShippedEngine
from firmware_sim.evaluate.metrics import Metrics, measure
from firmware_sim.evaluate.policies import ErpnextReorder, OdooMinMax
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
    config: ReplenishmentConfig  # the project's (before the per-SKU costs)
    project: tuple[Run, Metrics]
    project_curve: tuple[CurvePoint, ...]  # parameter: the policy's fill-rate target
    baselines: dict[str, tuple[Run, Metrics]]  # as configured (DEFAULT_SAFETY_FACTOR)
    tuned: dict[str, Tuned]  # tuned to the project's fill rate; curve parameter: safety factor

    @property
    def fill_rate_target(self) -> float | None:
        return self.config.default.fill_rate

    @property
    def service_level(self) -> float:
        return self.config.default.service_level

    @property
    def aim_met(self) -> bool:
        """Against every baseline tuned to the project's fill rate: the project serves at
        least its fill rate with less stock and no more stockout days.

        The tuning brackets the project's fill rate between two runs of the
        baseline (`Tuned.below` just short of it, `Tuned.metrics` reaching it);
        each criterion is checked against the end that is harder for the
        project: fill rate and stock against the run just short (the project
        must serve more with less), stockout days against the run reaching it.
        """
        m = self.project[1]
        return all(
            t.reached
            and t.below is not None
            and m.fill_rate >= t.below.fill_rate
            and m.avg_on_hand_days < t.below.avg_on_hand_days
            and m.stockout_days <= t.metrics.stockout_days
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
    config: ReplenishmentConfig | None = None,
    frontier: bool = True,
    progress: Progress | None = None,
) -> Evaluation:
    """Run the shipped engine on `config` (the shipped defaults if None), then each
    baseline as configured and tuned to the fill rate the project reached."""
    config = config or ReplenishmentConfig()

    def run_project(cfg: ReplenishmentConfig) -> tuple[Run, Metrics]:
        run = simulate(scenario, ShippedEngine(scenario, cfg), progress=progress)
        return run, measure(run, scenario)

    def setting(fill: float, floor: float) -> ReplenishmentConfig:
        rule = config.default.model_copy(update={"fill_rate": fill, "service_level": floor})
        return config.model_copy(update={"default": rule})

    project = run_project(config)
    curve = [CurvePoint(config.default.fill_rate or 0.0, project[1])]
    if frontier:
        curve += [CurvePoint(f, run_project(setting(f, s))[1]) for f, s in FRONTIER_SETTINGS]
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
        config,
        project,
        tuple(sorted(curve, key=lambda p: p.parameter)),
        baselines,
        tuned,
    )
