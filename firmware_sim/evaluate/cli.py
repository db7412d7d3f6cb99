"""`vmi sim evaluate`: run the comparison, print the table, write the table and the plots."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tqdm import tqdm

from firmware_sim.evaluate.experiment import evaluate, planned_days
from firmware_sim.evaluate.report import markdown, write_report
from firmware_sim.evaluate.scenario import make_scenario


def main(args: argparse.Namespace) -> int:
    """Entry of `vmi sim evaluate` (options: skus, days, seed, out, no_progress)."""
    started = time.monotonic()
    scenario = make_scenario(args.skus, args.days, seed=args.seed)
    with tqdm(
        total=planned_days(scenario),
        unit="day",
        desc="simulating",
        disable=args.no_progress,
        leave=False,
    ) as bar:
        ev = evaluate(scenario, progress=bar)
    paths = write_report(ev, Path(args.out))
    print(markdown(ev))
    print(f"wrote {', '.join(str(p) for p in paths)}")
    print(f"{time.monotonic() - started:.1f} s")
    return 0
