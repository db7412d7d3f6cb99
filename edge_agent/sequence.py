"""A per-device message sequence number that survives restarts."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from edge_agent.errors import EdgeError


class SequenceCounter:
    """Monotonic counter kept in a small file, replaced atomically on each step.

    The cloud uses the sequence to see gaps and replays, so it must never go
    backwards after a restart.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._value = int(path.read_text(encoding="ascii").strip() or "0")
        except FileNotFoundError:
            self._value = 0
        except (OSError, ValueError) as exc:
            raise EdgeError(f"sequence file {path} is unreadable: {exc}") from exc

    @property
    def value(self) -> int:
        """The last sequence number handed out (0 before the first)."""
        return self._value

    def next(self) -> int:
        """Hand out the next sequence number, persisted before it is returned."""
        with self._lock:
            value = self._value + 1
            tmp = self._path.with_suffix(".tmp")
            with open(tmp, "w", encoding="ascii") as f:
                f.write(str(value))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path)
            self._value = value
            return value
