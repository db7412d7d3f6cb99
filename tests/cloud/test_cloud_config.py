from __future__ import annotations

from pathlib import Path

import pytest

from cloud.config import CloudConfig, load_cloud_config
from cloud.ingest.workers import worker_config
from vmi.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_sample_config_validates() -> None:
    config = load_cloud_config(ROOT / "cloud" / "sample.toml")
    assert config.store.url == "http://127.0.0.1:8086/vmi"
    assert config.replenishment.rule_for("NUT-M8").pack_size == 100
    assert config.replenishment.rule_for("NUT-M8").lead_time_days == 3.0
    assert config.replenishment.rule_for("OTHER").lead_time_days == 2.0


def test_sku_overrides_inherit_the_configured_default(tmp_path: Path) -> None:
    path = tmp_path / "cloud.toml"
    path.write_text(
        "[replenishment.default]\nlead_time_days = 2.0\nmin_history_days = 0.5\n"
        "[replenishment.skus.A]\npack_size = 10\n"
        "[replenishment.skus.B]\nlead_time_days = 0.5\n"
    )
    rules = load_cloud_config(path).replenishment
    assert rules.rule_for("A").pack_size == 10
    assert rules.rule_for("A").lead_time_days == 2.0
    assert rules.rule_for("A").min_history_days == 0.5
    assert rules.rule_for("B").lead_time_days == 0.5
    assert rules.rule_for("B").pack_size == 1
    assert rules.rule_for("other").lead_time_days == 2.0


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[mqtt]\nurl = 'tcp://x'\n", "MQTT URL"),
        ("[mqtt]\nshare_group = 'a/b'\n", "share_group"),
        ("[replenishment.default]\nlead_time_days = -1\n", "lead_time_days"),
        ("[nope]\n", "nope"),
        ("[kpis]\nwindow_days = 0\n", "window_days"),
        ("[kpis]\nwindow_days = 367\n", "window_days"),
        ("[kpis]\ninterval_s = 0\n", "interval_s"),
        ("[kpis]\nenabled = 'maybe'\n", "enabled"),
        ("[kpis]\nwindow = 30\n", "window"),
        ("[suggestions]\nwindow_days = 6\n", "window_days"),
        ("[suggestions]\ntarget_fill_rate = 1.0\n", "target_fill_rate"),
        ("[suggestions]\ninterval_s = -1\n", "interval_s"),
    ],
)
def test_bad_configs_are_refused(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "cloud.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=complaint):
        load_cloud_config(path)


def test_the_suggestions_job_defaults_to_daily_over_90_days(tmp_path: Path) -> None:
    sample = load_cloud_config(ROOT / "cloud" / "sample.toml").suggestions
    assert (sample.enabled, sample.window_days, sample.interval_s) == (True, 90, 86_400.0)
    assert sample.target_fill_rate == 0.98
    config = CloudConfig.model_validate({"suggestions": {"window_days": 30}})
    jobs = [worker_config(config, i).suggestions for i in range(3)]
    assert [j.enabled for j in jobs] == [True, False, False]
    assert {j.window_days for j in jobs} == {30}


def test_the_kpi_job_defaults_to_hourly_over_30_days(tmp_path: Path) -> None:
    sample = load_cloud_config(ROOT / "cloud" / "sample.toml").kpis
    assert (sample.enabled, sample.window_days, sample.interval_s) == (True, 30, 3600.0)
    path = tmp_path / "cloud.toml"
    path.write_text("[kpis]\nenabled = false\nwindow_days = 366\ninterval_s = 0.5\n")
    kpis = load_cloud_config(path).kpis
    assert (kpis.enabled, kpis.window_days, kpis.interval_s) == (False, 366, 0.5)
