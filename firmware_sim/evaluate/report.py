"""The evaluation as a table (markdown and CSV) and as PNG plots (matplotlib, Agg)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from firmware_sim.evaluate.demand import FloatArray, Pattern
from firmware_sim.evaluate.experiment import DEFAULT_SAFETY_FACTOR, Evaluation
from firmware_sim.evaluate.metrics import Metrics
from firmware_sim.evaluate.simulate import Run

PLOTS = ("fill_vs_stock.png", "stock_over_time.png", "by_pattern.png")
TABLES = ("results.md", "results.csv")
CSV_COLUMNS = (
    "policy",
    "setting",
    "fill_rate",
    "stockout_days",
    "avg_on_hand_days",
    "turns",
    "orders",
)
_COLORS = {"project": "tab:green", "odoo min/max": "tab:purple", "erpnext reorder": "tab:blue"}


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results table."""

    policy: str
    setting: str
    metrics: Metrics


def rows(ev: Evaluation) -> list[Row]:
    """Project, each baseline as configured, each baseline tuned to the project's fill rate."""
    out = [Row("project", f"shipped engine: {_setting(ev)}", ev.project[1])]
    for name, (_, m) in ev.baselines.items():
        out.append(Row(name, f"as configured: safety factor {DEFAULT_SAFETY_FACTOR:.2f}", m))
    for name, t in ev.tuned.items():
        how = "tuned" if t.reached else "tuned, target NOT reached"
        out.append(Row(f"{name} (tuned)", f"{how}: safety factor {t.safety_factor:.2f}", t.metrics))
    return out


def _setting(ev: Evaluation) -> str:
    target = ev.fill_rate_target
    fill = f"fill-rate target {target:.1%}, " if target is not None else ""
    return f"{fill}cycle service >= {ev.service_level:.0%}"


def markdown(ev: Evaluation) -> str:
    """The results table and the tuned comparison, as markdown."""
    sc = ev.scenario
    lines = [
        f"# Replenishment policies: {sc.n_skus} SKUs, {sc.days} days, seed {sc.seed}",
        "",
        "| policy | setting | fill rate | stockout days | avg on hand (days of supply) "
        "| turns | orders |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows(ev):
        m = r.metrics
        lines.append(
            f"| {r.policy} | {r.setting} | {m.fill_rate:.2%} | {m.stockout_days} "
            f"| {m.avg_on_hand_days:.1f} | {m.turns:.1f} | {m.orders} |"
        )
    p = ev.project[1]
    lines += ["", f"At the project's fill rate ({p.fill_rate:.2%}):"]
    for name, t in ev.tuned.items():
        saved = 1.0 - p.avg_on_hand_days / t.metrics.avg_on_hand_days
        less = f"{saved:.0%} less stock" if saved >= 0 else f"{-saved:.0%} MORE stock"
        lines.append(
            f"- {name} tuned to {t.metrics.fill_rate:.2%} holds {t.metrics.avg_on_hand_days:.1f} "
            f"days of supply; the project {p.avg_on_hand_days:.1f} ({less})"
        )
        if t.below is not None:
            b = t.below
            lines.append(
                f"  (just short of it: {b.fill_rate:.2%} fill, {b.stockout_days} stockout days, "
                f"{b.avg_on_hand_days:.1f} days of supply)"
            )
    verdict = "met" if ev.aim_met else "NOT met"
    lines += [
        "",
        "Aim (against each baseline tuned to the project's fill rate, whose tuning brackets "
        "it between a run just short of it and a run reaching it: the project serves at "
        "least the fill rate of the run just short, with less stock than it, and has no "
        f"more stockout days than the run reaching it): {verdict}.",
        "",
        "Stockout days: SKU-days with demand left unserved. Days of supply and turns weigh "
        "stock by unit cost.",
    ]
    return "\n".join(lines) + "\n"


def write_csv(ev: Evaluation, path: Path) -> None:
    """The table's numbers, one row per policy run."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for r in rows(ev):
            m = r.metrics
            w.writerow(
                [
                    r.policy,
                    r.setting,
                    f"{m.fill_rate:.6f}",
                    m.stockout_days,
                    f"{m.avg_on_hand_days:.3f}",
                    f"{m.turns:.3f}",
                    m.orders,
                ]
            )


def write_report(ev: Evaluation, out: Path) -> list[Path]:
    """Write the tables and plots into `out` (created if needed); returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(markdown(ev))
    write_csv(ev, out / "results.csv")
    _save(_fill_vs_stock(ev), out / "fill_vs_stock.png")
    _save(_stock_over_time(ev), out / "stock_over_time.png")
    _save(_by_pattern(ev), out / "by_pattern.png")
    return [out / name for name in (*TABLES, *PLOTS)]


def _save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=110)


def _color(name: str) -> str:
    return _COLORS.get(name.removesuffix(" (tuned)"), "tab:gray")


def _fill_vs_stock(ev: Evaluation) -> Figure:
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.add_subplot()
    p = ev.project[1]
    curve = ev.project_curve
    ax.plot(
        [c.metrics.avg_on_hand_days for c in curve],
        [100 * c.metrics.fill_rate for c in curve],
        "o-",
        color=_color("project"),
        label=f"project (fill-rate target {curve[0].parameter:.1%} to {curve[-1].parameter:.1%}, "
        "cycle service floor rising with it)",
    )
    for name, t in ev.tuned.items():
        pts = [c for c in t.curve if c.metrics.fill_rate > 0.9]
        ax.plot(
            [c.metrics.avg_on_hand_days for c in pts],
            [100 * c.metrics.fill_rate for c in pts],
            ".--",
            color=_color(name),
            alpha=0.7,
            label=f"{name} (safety factor search)",
        )
        ax.plot(
            t.metrics.avg_on_hand_days,
            100 * t.metrics.fill_rate,
            "s",
            ms=9,
            color=_color(name),
            label=f"{name} tuned: {t.metrics.avg_on_hand_days:.1f} d",
        )
        base = ev.baselines[name][1]
        ax.plot(base.avg_on_hand_days, 100 * base.fill_rate, "x", ms=9, mew=2, color=_color(name))
    ax.plot(
        p.avg_on_hand_days,
        100 * p.fill_rate,
        "*",
        ms=16,
        color=_color("project"),
        label=f"project: {p.avg_on_hand_days:.1f} d at {p.fill_rate:.2%}",
    )
    if ev.fill_rate_target is not None:
        ax.axhline(100 * ev.fill_rate_target, color="gray", lw=0.8, ls=":")
    ax.set_xlabel("average stock on hand (days of supply, weighted by unit cost)")
    ax.set_ylabel("fill rate (%)")
    ax.set_title("Fill rate against stock held (x: baselines as configured)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _stock_days(run: Run, unit_cost: FloatArray) -> FloatArray:
    """Stock on hand each day in days of the year's average daily demand (cost-weighted)."""
    daily_value = float((run.demand.mean(axis=1) * unit_cost).sum())
    result: FloatArray = (run.on_hand * unit_cost[:, None]).sum(axis=0) / daily_value
    return result


def _rolling_fill(run: Run, days: int = 7) -> FloatArray:
    kernel = np.ones(days)
    shipped = np.convolve(run.shipped.sum(axis=0), kernel, mode="valid")
    demand = np.convolve(run.demand.sum(axis=0).astype(np.float64), kernel, mode="valid")
    result: FloatArray = 100 * shipped / np.maximum(demand, 1e-9)
    return result


def _runs(ev: Evaluation) -> list[tuple[str, Run]]:
    return [("project", ev.project[0])] + [(f"{n} (tuned)", t.run) for n, t in ev.tuned.items()]


def _stock_over_time(ev: Evaluation) -> Figure:
    fig = Figure(figsize=(9, 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    cost = ev.scenario.unit_cost
    for name, run in _runs(ev):
        top.plot(_stock_days(run, cost), color=_color(name), lw=1.2, label=name)
        fill = _rolling_fill(run)
        bottom.plot(np.arange(len(fill)) + 6, fill, color=_color(name), lw=1.0, label=name)
    top.set_ylabel("stock on hand (days of supply)")
    top.set_title("Stock and service over the year (baselines tuned to the project's fill rate)")
    bottom.set_ylabel("fill rate, 7-day window (%)")
    bottom.set_xlabel("day")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def _by_pattern(ev: Evaluation) -> Figure:
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    sc = ev.scenario
    runs = _runs(ev)
    width = 0.8 / len(runs)
    x = np.arange(len(Pattern), dtype=np.float64)
    lowest = 100.0
    for k, (name, run) in enumerate(runs):
        fill, days = [], []
        for pattern in Pattern:
            sel = sc.pattern == pattern
            demand = float(run.demand[sel].sum())
            fill.append(100 * float(run.shipped[sel].sum()) / demand if demand else 100.0)
            value = sc.unit_cost[sel]
            stock = float((run.on_hand[sel].mean(axis=1) * value).sum())
            days.append(stock / max(float((run.demand[sel].mean(axis=1) * value).sum()), 1e-9))
        lowest = min(lowest, *fill)
        left.bar(x + k * width, fill, width, color=_color(name), label=name)
        right.bar(x + k * width, days, width, color=_color(name), label=name)
    _pattern_axes(left, x + width, "fill rate (%)")
    left.set_ylim(max(0.0, lowest - 1.0), 100.2)
    _pattern_axes(right, x + width, "average stock (days of supply)")
    right.legend(fontsize=8)
    fig.suptitle("By demand pattern (baselines tuned to the project's fill rate)")
    return fig


def _pattern_axes(ax: Axes, ticks: FloatArray, label: str) -> None:
    ax.set_xticks(ticks, [p.name.lower() for p in Pattern])
    ax.set_ylabel(label)
    ax.grid(alpha=0.3, axis="y")
