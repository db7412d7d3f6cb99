"""The comparison on several seeds: one table row per seed and one per (seed, demand pattern).

Each seed is a new world (`make_scenario`): the project's engine and both
baselines tuned to the project's fill rate (`evaluate`, without the frontier
runs). With `per_kind` each seed's SKUs of one demand pattern make a world
of their own, so each baseline is tuned to that pattern alone (a stronger
baseline than one tuning for all four).

The aim holds on a world as `Evaluation.aim_met` says: against each
baseline tuned to the project's fill rate (bracketed by a run just short of it
and one reaching it), at least the fill rate and less stock than the run just
short, and no more stockout days than the run reaching it. A mixed world's
per-pattern rows show where each policy gains and loses (its baselines are
tuned on the whole world, not per pattern).
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
    world: str = "mixed"  # or "<pattern> only" (`evaluate_seeds(per_kind=True)`)


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
    per_kind: bool = False,
) -> list[Evaluation]:
    """`evaluate` on the world of each seed (no frontier runs); with `per_kind`, on each
    seed's SKUs of one demand pattern at a time instead (the baselines tuned to each)."""
    out = []
    for seed in seeds:
        world = make_scenario(skus, days, seed=seed)
        parts = [world.only(world.pattern == p) for p in Pattern] if per_kind else [world]
        for sc in parts:
            if sc.n_skus:
                out.append(evaluate(sc, config=config, frontier=False, progress=progress))
    return out


def kind(ev: Evaluation) -> Pattern | None:
    """The demand pattern of a one-pattern world; None for a mixed one."""
    found = set(ev.scenario.pattern.tolist())
    return Pattern(found.pop()) if len(found) == 1 else None


def lines(evaluations: Sequence[Evaluation]) -> list[Line]:
    """The project and each tuned baseline, per seed: all SKUs, then each pattern."""
    out: list[Line] = []
    for ev in evaluations:
        sc = ev.scenario
        runs = [("project", ev.project[0])] + [
            (f"{name} (tuned)", t.run) for name, t in ev.tuned.items()
        ]
        only = kind(ev)
        world = "mixed" if only is None else f"{only.name.lower()} only"
        for pattern in (None, *Pattern) if only is None else (None,):
            sel = None if pattern is None else sc.pattern == pattern
            shown = pattern if only is None else only
            for name, run in runs:
                out.append(Line(sc.seed, shown, name, measure(run, sc, sel), world))
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
    for ev, ev_lines in zip(evaluations, _per_evaluation(evaluations, all_lines), strict=True):
        seed, only = ev.scenario.seed, kind(ev)
        for pattern in (None, *Pattern) if only is None else (None,):
            shown = only if pattern is None else pattern
            cells = [_cell(x.metrics) for x in ev_lines if x.pattern == shown]
            aim = ("met" if ev.aim_met else "NOT met") if pattern is None else ""
            name = "all" if shown is None else shown.name.lower()
            if only is not None:
                name += " only"
            out.append(f"| {seed} | {name} | " + " | ".join(cells) + f" | {aim} |")
    met = sum(ev.aim_met for ev in evaluations)
    out += [
        "",
        f"Aim met on {met} of {len(evaluations)} worlds. Baselines: the run of the tuning "
        "that reaches the project's fill rate; the aim also checks the run just short of it "
        "(see `Evaluation.aim_met`). Stock is in days of supply, weighted by unit cost.",
    ]
    return "\n".join(out) + "\n"


def _per_evaluation(evaluations: Sequence[Evaluation], all_lines: list[Line]) -> list[list[Line]]:
    """`lines` split back into each evaluation's own (they come in evaluation order)."""
    out: list[list[Line]] = []
    i = 0
    for ev in evaluations:
        count = (1 + (len(Pattern) if kind(ev) is None else 0)) * (1 + len(ev.tuned))
        out.append(all_lines[i : i + count])
        i += count
    return out


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
                "world",
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
                    x.world,
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
