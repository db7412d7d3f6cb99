"""`vmi sim evaluate`: run the comparison, print the table, write the table and the plots.

With `--seeds` it runs each seed's world instead and prints one table of them
(per seed and demand pattern); `--per-kind` splits each seed's world by
demand pattern and tunes the baselines to each part alone. `--config` takes
a cloud config file and runs the engine on its `[replenishment]` settings
instead of the shipped defaults.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import NoReturn

from tqdm import tqdm

from cloud.config import ReplenishmentConfig, load_cloud_config
from firmware_sim.evaluate import seeds as seed_tables
from firmware_sim.evaluate.demand import Pattern
from firmware_sim.evaluate.experiment import evaluate, planned_days
from firmware_sim.evaluate.report import markdown, write_report
from firmware_sim.evaluate.scenario import make_scenario


def main(args: argparse.Namespace) -> int:
    """Entry of `vmi sim evaluate` (options: skus, days, seed, seeds, config, out,
    no_progress)."""
    started = time.monotonic()
    config = load_cloud_config(args.config).replenishment if args.config else ReplenishmentConfig()
    out = Path(args.out)
    if args.seeds:
        seeds = seed_tables.parse_seeds(args.seeds)
        scenario = make_scenario(args.skus, args.days, seed=seeds[0])
        worlds = len(seeds) * (len(Pattern) if args.per_kind else 1)
        total = planned_days(scenario, frontier=False) * worlds
        with _bar(total, args.no_progress) as bar:
            evaluations = seed_tables.evaluate_seeds(
                seeds,
                skus=args.skus,
                days=args.days,
                config=config,
                progress=bar,
                per_kind=args.per_kind,
            )
        paths = seed_tables.write_tables(evaluations, out)
        print(seed_tables.markdown(evaluations))
    else:
        scenario = make_scenario(args.skus, args.days, seed=args.seed)
        with _bar(planned_days(scenario), args.no_progress) as bar:
            ev = evaluate(scenario, config=config, progress=bar)
        paths = write_report(ev, out)
        print(markdown(ev))
    print(f"wrote {', '.join(str(p) for p in paths)}")
    print(f"{time.monotonic() - started:.1f} s")
    return 0


def _bar(total: int, disable: bool) -> tqdm[NoReturn]:
    return tqdm(total=total, unit="day", desc="simulating", disable=disable, leave=False)
