"""The comparison on several seeds: one table row per seed and one per (seed, demand pattern).

Each seed is a new world (`make_scenario`): the project's engine and both
baselines tuned to the project's fill rate (`evaluate`, without the frontier
runs). The aim holds on a seed as `Evaluation.aim_met` says: against each
baseline tuned to the project's fill rate (bracketed by a run just short of it
and one reaching it), at least the fill rate and less stock than the run just
short, and no more stockout days than the run reaching it. Each seed's world
mixes all four demand patterns; the per-pattern rows show where each policy
gains and loses (the baselines are tuned on the whole world, not per pattern).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cloud.config import ReplenishmentConfig
from firmware_sim.evaluate.demand import Pattern
from firmware_sim.evaluate.experiment import Evaluation, evaluate
from firmware_sim.evaluate.metrics import Metrics, measure
from firmware_sim.evaluate.scenario import make_scenario
from firmware_sim.evaluate.simulate import Progress

TABLES = ("seeds.md", "seeds.csv")


@dataclass(frozen=True, slots=True)
class Line:
    """One policy's metrics on one seed, all SKUs (`pattern` None) or one pattern's."""

    seed: int
    pattern: Pattern | None
    policy: str
    metrics: Metrics


def parse_seeds(text: str) -> list[int]:
    """`1-8`, `1,3,5` or a mix (`1-3,7`) as a list of seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        first = int(lo)
        seeds.extend(range(first, int(hi) + 1) if hi else [first])
    if not seeds:
        raise ValueError("no seeds")
    return seeds


def evaluate_seeds(
    seeds: Sequence[int],
    *,
    skus: int,
    days: int,
    config: ReplenishmentConfig | None = None,
    progress: Progress | None = None,
) -> list[Evaluation]:
    """`evaluate` on the world of each seed (no frontier runs)."""
    return [
        evaluate(
            make_scenario(skus, days, seed=seed), config=config, frontier=False, progress=progress
        )
        for seed in seeds
    ]


def lines(evaluations: Sequence[Evaluation]) -> list[Line]:
    """The project and each tuned baseline, per seed: all SKUs, then each pattern."""
    out: list[Line] = []
    for ev in evaluations:
        sc = ev.scenario
        runs = [("project", ev.project[0])] + [
            (f"{name} (tuned)", t.run) for name, t in ev.tuned.items()
        ]
        for pattern in (None, *Pattern):
            sel = None if pattern is None else sc.pattern == pattern
            for name, run in runs:
                out.append(Line(sc.seed, pattern, name, measure(run, sc, sel)))
    return out


def markdown(evaluations: Sequence[Evaluation]) -> str:
    """Per seed: each policy's fill rate, stockout days and stock; then per pattern."""
    all_lines = lines(evaluations)
    policies = list(dict.fromkeys(x.policy for x in all_lines))
    head = " | ".join(f"{p}: fill / stockout days / stock (d)" for p in policies)
    out = [
        "| seed | pattern | " + head + " | aim |",
        "|---|---|" + "---:|" * len(policies) + "---|",
    ]
    by_seed = {ev.scenario.seed: ev for ev in evaluations}
    for seed, ev in by_seed.items():
        for pattern in (None, *Pattern):
            cells = [_cell(x.metrics) for x in all_lines if x.seed == seed and x.pattern == pattern]
            aim = ("met" if ev.aim_met else "NOT met") if pattern is None else ""
            name = "all" if pattern is None else pattern.name.lower()
            out.append(f"| {seed} | {name} | " + " | ".join(cells) + f" | {aim} |")
    met = sum(ev.aim_met for ev in evaluations)
    out += [
        "",
        f"Aim met on {met} of {len(evaluations)} seeds. Baselines: the run of the tuning "
        "that reaches the project's fill rate; the aim also checks the run just short of it "
        "(see `Evaluation.aim_met`). Stock is in days of supply, weighted by unit cost.",
    ]
    return "\n".join(out) + "\n"


def _cell(m: Metrics) -> str:
    return f"{m.fill_rate:.2%} / {m.stockout_days} / {m.avg_on_hand_days:.1f}"


def write_tables(evaluations: Sequence[Evaluation], out: Path) -> list[Path]:
    """`seeds.md` and `seeds.csv` in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    md, csv_path = out / TABLES[0], out / TABLES[1]
    md.write_text(markdown(evaluations))
    with csv_path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            (
                "seed",
                "pattern",
                "policy",
                "fill_rate",
                "stockout_days",
                "avg_on_hand_days",
                "turns",
                "orders",
            )
        )
        for x in lines(evaluations):
            m = x.metrics
            w.writerow(
                (
                    x.seed,
                    "all" if x.pattern is None else x.pattern.name.lower(),
                    x.policy,
                    f"{m.fill_rate:.6f}",
                    m.stockout_days,
                    f"{m.avg_on_hand_days:.4f}",
                    f"{m.turns:.4f}",
                    m.orders,
                )
            )
    return [md, csv_path]
