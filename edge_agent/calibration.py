"""Tare and span set at the site, per location, kept across restarts.

A `tare` or `calibrate` command changes how a shelf's weight is counted; the
result is written atomically to `<state_dir>/calibration.json` and overrides
the config file's `tare_g` and `span` from then on.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from edge_agent.errors import EdgeError


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
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            self._by_location = {loc: ShelfCalibration(**c) for loc, c in raw.items()}
        except FileNotFoundError:
            self._by_location = {}
        except (OSError, ValueError, TypeError) as exc:
            raise EdgeError(f"calibration file {path} is unreadable: {exc}") from exc

    def get(self, location: str) -> ShelfCalibration | None:
        with self._lock:
            return self._by_location.get(location)

    def set(self, location: str, calibration: ShelfCalibration) -> None:
        """Record a calibration; it is on disk when this returns."""
        with self._lock:
            self._by_location[location] = calibration
            data = {loc: asdict(c) for loc, c in sorted(self._by_location.items())}
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path)
