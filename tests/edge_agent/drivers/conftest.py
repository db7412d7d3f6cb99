"""Fixtures of the driver tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.edge_agent.drivers.bare_pty import Pty


@pytest.fixture
def pty() -> Iterator[Pty]:
    """A bare pty (`tests.edge_agent.drivers.bare_pty.Pty`), closed afterwards."""
    device = Pty()
    yield device
    device.close()
