"""Demand benchmark: forecasts and stockout bands for 100,000 series in one pass.

    uv run python bench/projector.py                  # 100,000 series of 90 days
    uv run python bench/projector.py --series 1000000 --runs 3

Builds synthetic daily demand (by default 60 % smooth Poisson series, a fifth
of them trending, 40 % intermittent ones; 3 % of the series have an outage of
a few unobserved days), then times `forecast_many` + `project_many` over all
of them in one process on one core, best of a few runs. Peak memory is the
largest amount numpy and Python allocated during one pass (tracemalloc, input
excluded) and the process's peak resident size. As a sanity check it prints
how far the forecast mean is from the rate the series were drawn with.

Last, `daily_demand` (levels -> days, a Python-level step per series) is timed
on a few hundred series of hourly readings, so the cost of the whole path is
visible.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloud.replenishment.demand import daily_demand, forecast_many, project_many  # noqa: E402
from cloud.timeseries.base import LevelPoint  # noqa: E402

FloatArray = npt.NDArray[np.float64]


def synthetic(
    n: int, days: int, seed: int
) -> tuple[FloatArray, npt.NDArray[np.bool_], FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """(daily demand, observed mask, on hand, true current rate, truly intermittent)."""
    rng = np.random.default_rng(seed)
    intermittent = rng.random(n) < 0.4
    t = np.arange(days, dtype=np.float64)

    # Smooth: Poisson around a log-normal rate, a fifth of them trending +-50 % over the window.
    base = rng.lognormal(mean=1.5, sigma=1.0, size=n)
    slope = np.where(rng.random(n) < 0.2, rng.uniform(-0.5, 0.5, n), 0.0) / days
    rate_t = base[:, None] * (1.0 + slope[:, None] * (t - days / 2))
    x = rng.poisson(rate_t).astype(np.float64)

    # Intermittent: demand on a fraction p of days, sizes 1 + Poisson(m).
    p = rng.uniform(0.03, 0.5, n)
    m = rng.lognormal(1.0, 0.7, n)
    k = int(intermittent.sum())
    hits = rng.random((k, days)) < p[intermittent, None]
    sizes = 1.0 + rng.poisson(m[intermittent, None], size=(k, days))
    x[intermittent] = hits * sizes

    true_rate = np.where(intermittent, p * (1.0 + m), rate_t[:, -1])
    observed = np.ones((n, days), dtype=np.bool_)
    down = np.flatnonzero(rng.random(n) < 0.03)
    first = rng.integers(0, days - 5, size=len(down))
    for offset in range(5):
        observed[down, first + offset] = False
    x[~observed] = 0.0
    on_hand = rng.uniform(0.0, 60.0, n) * true_rate
    return x, observed, on_hand, true_rate, intermittent


def bench_forecast(n: int, days: int, runs: int, seed: int) -> None:
    x, observed, on_hand, true_rate, truly = synthetic(n, days, seed)
    print(
        f"{n:,} series x {days} days ({int(truly.sum()):,} drawn intermittent, "
        f"{int((~observed).any(axis=1).sum()):,} with an outage); input {x.nbytes / 2**20:.0f} MiB"
    )
    timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f = forecast_many(x, observed=observed)
        t1 = time.perf_counter()
        band = project_many(on_hand, f)
        t2 = time.perf_counter()
        timings.append((t2 - t0, t1 - t0, t2 - t1))
    total, fc, pr = min(timings)
    print(
        f"forecast_many + project_many: {total:.3f} s, {n / total:,.0f} series/s "
        f"(forecast {fc:.3f} s, project {pr:.3f} s; best of {runs})"
    )

    tracemalloc.start()
    f = forecast_many(x, observed=observed)
    band = project_many(on_hand, f)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    status = Path("/proc/self/status")
    hwm = ""
    if status.exists():
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        hwm = f", process peak RSS {int(fields['VmHWM'].split()[0]) / 1024:.0f} MiB"
    print(f"peak memory of one pass: {peak / 2**20:.1f} MiB allocated{hwm}")

    classified = f.intermittent
    print(
        f"classified intermittent: {int(classified.sum()):,} "
        f"(agree with the draw on {np.mean(classified == truly):.1%} of series)"
    )
    err = np.abs(f.mean_per_day - true_rate) / true_rate
    for name, rows in (("smooth", ~truly), ("intermittent", truly)):
        print(
            f"  {name:<12} |mean - true rate| / true rate: median {np.median(err[rows]):.1%}, "
            f"90th pct {np.quantile(err[rows], 0.9):.1%}"
        )
    sd = band.stockout_days  # inf where demand is 0, so compare rather than subtract
    known = ~np.isnan(sd).any(axis=1)
    ordered = (sd[:, 0] <= sd[:, 1]) & (sd[:, 1] <= sd[:, 2])
    print(
        f"  stockout p10 <= p50 <= p90 on {np.mean(ordered[known]):.1%} of "
        f"{int(known.sum()):,} series with a band; {int(np.isinf(sd[:, 1]).sum()):,} with no demand"
    )


def bench_daily(n: int, days: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    hours = days * 24
    series = []
    for _ in range(n):
        picks = rng.poisson(0.5, size=hours)
        level = 5000.0 - np.cumsum(picks) + rng.integers(0, 2, size=hours)  # 1-unit flicker
        series.append(
            [
                LevelPoint("s", "d", "A", "X", start + timedelta(hours=h), float(q))
                for h, q in enumerate(level)
            ]
        )
    t0 = time.perf_counter()
    for points in series:
        daily_demand(points, start=start, days=days)
    dt = time.perf_counter() - t0
    print(
        f"daily_demand: {n / dt:,.0f} series/s ({hours:,} hourly points each, "
        f"{n * hours / dt:,.0f} points/s)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--series", type=int, default=100_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--daily-series", type=int, default=200, help="0 skips the daily_demand part")
    args = p.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores")
    bench_forecast(args.series, args.days, args.runs, args.seed)
    if args.daily_series:
        bench_daily(args.daily_series, args.days, args.seed)


if __name__ == "__main__":
    main()
