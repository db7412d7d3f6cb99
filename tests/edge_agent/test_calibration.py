from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.calibration import CalibrationStore, ShelfCalibration
from edge_agent.errors import EdgeError


def test_calibrations_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "calibration.json"
    store = CalibrationStore(path)
    assert store.get("A") is None
    store.set("A", ShelfCalibration(tare_g=120.0, span=1.25, at="2026-11-24T10:00:00+00:00"))
    store.set("B", ShelfCalibration(tare_g=0.0, span=1.0, at="2026-11-24T10:01:00+00:00"))
    again = CalibrationStore(path)
    assert again.get("A") == ShelfCalibration(120.0, 1.25, "2026-11-24T10:00:00+00:00")
    assert again.get("B") is not None


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    path.write_text('{"A": {"tare_g": 1}}')
    with pytest.raises(EdgeError, match="unreadable"):
        CalibrationStore(path)
