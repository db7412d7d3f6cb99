"""Small JSON state files in the agent's `state_dir`, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from edge_agent.errors import EdgeError


def read_json(path: Path, what: str) -> Any:
    """The JSON in `path`, or None if there is no such file; `EdgeError` naming `what`
    if it cannot be read or parsed."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise EdgeError(f"{what} {path} is unreadable: {exc}") from exc


def write_json_atomically(path: Path, data: Any) -> None:
    """Write `data` as JSON to `path`: on disk when this returns, never half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
