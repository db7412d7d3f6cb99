"""Tare and span set at the site, per location, kept across restarts.

A `tare` or `calibrate` command changes how a shelf's weight is counted; the
result is written atomically to `<state_dir>/calibration.json` and overrides
the config file's `tare_g` and `span` from then on.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from edge_agent.errors import EdgeError
from edge_agent.state_file import read_json, write_json_atomically


@dataclass(frozen=True, slots=True)
class ShelfCalibration:
    tare_g: float
    span: float
    at: str  # when it was set (ISO 8601)


class CalibrationStore:
    """The persisted calibrations of one agent, by location."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        raw = read_json(path, "calibration file") or {}
        try:
            self._by_location = {loc: ShelfCalibration(**c) for loc, c in raw.items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise EdgeError(f"calibration file {path} is unreadable: {exc}") from exc

    def get(self, location: str) -> ShelfCalibration | None:
        with self._lock:
            return self._by_location.get(location)

    def set(self, location: str, calibration: ShelfCalibration) -> None:
        """Record a calibration; it is on disk when this returns."""
        with self._lock:
            self._by_location[location] = calibration
            data = {loc: asdict(c) for loc, c in sorted(self._by_location.items())}
            write_json_atomically(self._path, data)
