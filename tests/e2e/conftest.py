"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.fault_rig import Rig


@pytest.fixture
def rig(tmp_path: Path, unique_id: str) -> Iterator[Rig]:
    """A started fault rig (broker and InfluxDB; no collector yet)."""
    r = Rig(tmp_path, unique_id)
    r.start()
    yield r
    r.stop()
