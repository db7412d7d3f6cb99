"""`vmi sim evaluate`: the table, the plots and the command on a small world."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from firmware_sim.evaluate import seeds as seed_tables
from firmware_sim.evaluate.experiment import Evaluation, evaluate, planned_days
from firmware_sim.evaluate.report import PLOTS, TABLES, markdown, write_report
from firmware_sim.evaluate.scenario import make_scenario
from vmi.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small() -> Evaluation:
    return evaluate(make_scenario(20, 120, history_days=60, seed=5), frontier=False)


def test_the_evaluation_tunes_both_baselines_to_the_project_fill_rate(small: Evaluation) -> None:
    target = small.project[1].fill_rate
    assert set(small.baselines) == set(small.tuned) == {"odoo min/max", "erpnext reorder"}
    for tuned in small.tuned.values():
        assert tuned.reached
        assert tuned.metrics.fill_rate >= target


def test_report_writes_the_table_and_the_plots(small: Evaluation, tmp_path: Path) -> None:
    paths = write_report(small, tmp_path / "out")
    assert sorted(p.name for p in paths) == sorted((*TABLES, *PLOTS))
    for name in PLOTS:
        data = (tmp_path / "out" / name).read_bytes()
        assert data.startswith(PNG)
        assert len(data) > 10_000
    md = (tmp_path / "out" / "results.md").read_text()
    assert md == markdown(small)
    for policy in ("project", "odoo min/max", "erpnext reorder", "(tuned)", "Aim ("):
        assert policy in md
    with (tmp_path / "out" / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["policy"] for r in rows] == [
        "project",
        "odoo min/max",
        "erpnext reorder",
        "odoo min/max (tuned)",
        "erpnext reorder (tuned)",
    ]
    project = small.project[1]
    assert float(rows[0]["fill_rate"]) == pytest.approx(project.fill_rate, abs=1e-6)
    assert int(rows[0]["orders"]) == project.orders


def test_vmi_sim_evaluate_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval"
    argv = ["sim", "evaluate", "--skus", "20", "--days", "120", "--seed", "2"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| project |" in printed
    for name in (*TABLES, *PLOTS):
        assert (out / name).is_file()


def test_progress_total_matches_the_planned_runs() -> None:
    sc = make_scenario(5, 30, history_days=30, seed=1)

    class Count:
        def __init__(self) -> None:
            self.total: float | None = planned_days(sc)
            self.n = 0.0

        def update(self, n: float | None = 1) -> bool | None:
            self.n += n or 0
            return None

    bar = Count()
    evaluate(sc, progress=bar)
    assert bar.n == bar.total


def test_the_shipped_engine_beats_both_tuned_baselines_on_the_default_seed() -> None:
    # The README's world (300 SKUs, a year, seed 1) on the shipped defaults. Each
    # baseline is tuned to the project's fill rate; the project must serve at
    # least the fill rate of the run just short of it, with less stock, and have
    # no more stockout days than the run reaching it.
    ev = evaluate(make_scenario(300, 365, seed=1), frontier=False)
    p = ev.project[1]
    for name, tuned in ev.tuned.items():
        assert tuned.reached, name
        assert tuned.below is not None, name
        assert p.fill_rate >= tuned.below.fill_rate, name
        assert p.avg_on_hand_days < tuned.below.avg_on_hand_days, name
        assert p.stockout_days <= tuned.metrics.stockout_days, name
    assert ev.aim_met


def test_parse_seeds() -> None:
    assert seed_tables.parse_seeds("1-3,7") == [1, 2, 3, 7]
    assert seed_tables.parse_seeds("5") == [5]
    with pytest.raises(ValueError, match="invalid literal"):
        seed_tables.parse_seeds("x")


def test_vmi_sim_evaluate_seeds_writes_a_row_per_seed_and_pattern(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "seeds"
    argv = ["sim", "evaluate", "--skus", "20", "--days", "60", "--seeds", "1-2"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| 1 | all |" in printed
    assert "| 2 | intermittent |" in printed
    assert "seeds." in printed
    with (out / "seeds.csv").open() as f:
        rows = list(csv.DictReader(f))
    # 2 seeds x (all + 4 patterns) x (project + 2 tuned baselines)
    assert len(rows) == 2 * 5 * 3
    assert {r["policy"] for r in rows} == {
        "project",
        "odoo min/max (tuned)",
        "erpnext reorder (tuned)",
    }


def test_vmi_sim_evaluate_takes_a_cloud_config(tmp_path: Path) -> None:
    cfg = tmp_path / "cloud.toml"
    cfg.write_text("[replenishment.default]\nservice_level = 0.9\n")
    out = tmp_path / "eval"
    argv = ["sim", "evaluate", "--skus", "10", "--days", "40", "--config", str(cfg)]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    assert "cycle service >= 90%" in (out / "results.md").read_text()


def test_per_kind_tunes_the_baselines_to_each_demand_pattern_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kinds"
    argv = ["sim", "evaluate", "--skus", "40", "--days", "60", "--seeds", "3", "--per-kind"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    for name in ("smooth", "seasonal", "trending", "intermittent"):
        (row,) = [ln for ln in printed.splitlines() if ln.startswith(f"| 3 | {name} only |")]
        assert row.count("%") == 3  # the project and both tuned baselines
    assert "of 4 worlds" in printed
    with (out / "seeds.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 * 3  # a row per world and policy, no per-pattern rows
    assert {r["world"] for r in rows} == {
        "smooth only", "seasonal only", "trending only", "intermittent only",
    }  # fmt: skip
    sc = make_scenario(40, 60, seed=3)
    smooth = sc.only(sc.pattern == 0)
    assert smooth.n_skus == int((sc.pattern == 0).sum())
    assert (smooth.demand == sc.demand[sc.pattern == 0]).all()
    assert smooth.days == sc.days
