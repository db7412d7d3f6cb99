"""`vmi sim evaluate`: the table, the plots and the command on a small world."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

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
