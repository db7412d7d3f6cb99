"""Fixtures shared by the cloud tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cloud.broker_client import Broker
from tests.servers import MosquittoServer


@pytest.fixture
def broker(mosquitto: MosquittoServer) -> Iterator[Broker]:
    """A client of the session's Mosquitto that records dead letters."""
    b = Broker(mosquitto.port)
    yield b
    b.close()
