"""Suggestion benchmark: better agreement terms for 10,000 (site, SKU)s.

    uv run python bench/suggest.py                  # 10,000 keys, 28-day windows
    uv run python bench/suggest.py --keys 1000 --window 56

Builds each key's window of daily demand (Poisson at rates from 0.2 to 200 a
day; a third intermittent), forecasts it with production's `project_rows`,
takes the shipped default rule on agreement-like lead times (2 to 14 days,
spread a fifth of the mean), then times `cloud.suggest.suggest` over all of
them in one process: the resampled year of every key replayed through
`decide_many` under today's terms and each candidate. It prints the wall
time, the keys per second, the replayed rows and how many keys got a
suggestion or a flag. The target: 10,000 keys in under a minute.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloud.replenishment.policy import ReplenishmentRule, RuleTable  # noqa: E402
from cloud.replenishment.projection import project_rows  # noqa: E402
from cloud.suggest.suggest import KeyInputs, SuggestOptions, suggest  # noqa: E402


def inputs(n: int, window: int, seed: int) -> KeyInputs:
    rng = np.random.default_rng(seed)
    rate = np.exp(rng.uniform(np.log(0.2), np.log(200.0), n))
    intermittent = rng.random(n) < 1 / 3
    p = np.where(intermittent, 0.2, 1.0)
    days = rng.poisson(rate[:, None] / p[:, None], (n, window)) * (
        rng.random((n, window)) < p[:, None]
    )
    consumed = days.astype(np.float64)
    observed = np.ones_like(consumed, dtype=bool)
    keys = [(f"site{i % 50}", f"SKU{i:05d}") for i in range(n)]
    table = project_rows(
        keys,
        datetime(2026, 12, 1, tzinfo=UTC),
        consumed=consumed,
        observed=observed,
        on_hand=rng.uniform(0.0, 30.0, n) * rate,
        history_days=np.full(n, float(window)),
    )
    lead = rng.uniform(2.0, 14.0, n)
    rules = RuleTable.of([ReplenishmentRule()] * n).with_lead_times(lead, lead / 5.0)
    return KeyInputs(
        keys=keys,
        rules=rules,
        rate_per_day=table.rate_per_day,
        sigma_per_day=table.sigma_per_day,
        rate_error_sd=table.rate_error_sd,
        on_hand=table.on_hand,
        consumed=consumed,
        observed=observed,
        in_stock=np.ones_like(consumed),
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--window", type=int, default=28, help="days of demand per key")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    data = inputs(args.keys, args.window, args.seed)
    options = SuggestOptions()
    candidates = 1 + len(options.service_levels) * len(options.review_periods)
    started = time.perf_counter()
    found = suggest(data, options)
    took = time.perf_counter() - started
    offered = sum(s.suggested is not None for s in found)
    flagged = sum(bool(s.flags) for s in found)
    print(
        f"suggestions for {args.keys:,} keys: {took:.1f} s ({args.keys / took:,.0f} keys/s); "
        f"{args.keys * candidates:,} rows x {options.horizon_days + options.warmup_days} days "
        f"replayed; {offered:,} suggestions, {flagged:,} keys flagged"
    )
    met = took < 60 * args.keys / 10_000
    print(f"target: 10,000 keys in under 60 s (pro rata) -> {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
