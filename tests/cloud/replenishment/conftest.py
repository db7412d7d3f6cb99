"""Fixtures of the replenishment tests (the rig itself: tests/cloud/replenishment/rig.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cloud.replenishment.rig import Rig, make_rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """A replenisher and a sensor watch on fresh stores, default rules."""
    r = make_rig(tmp_path)
    yield r
    r.close()
