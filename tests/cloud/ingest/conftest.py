"""Fixtures of the ingest tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cloud.config import CloudConfig
from cloud.service import CloudService
from tests.servers import MosquittoServer

StartService = Callable[..., CloudService]


@pytest.fixture
def start_service(
    tmp_path: Path, mosquitto: MosquittoServer, influx_db_url: str, unique_id: str
) -> Iterator[StartService]:
    """Starts services on the session's Mosquitto and a fresh InfluxDB database,
    connected; keyword arguments are config sections put over the defaults.
    Every service started is stopped at the end of the test."""
    started: list[CloudService] = []

    def start(**config: Any) -> CloudService:
        base: dict[str, Any] = {
            "mqtt": {"url": mosquitto.url, "client_id": f"c{len(started)}-{unique_id}"},
            "store": {"url": influx_db_url},
            "orders": {"url": f"sqlite:///{tmp_path / 'orders.db'}"},
        }
        svc = CloudService(CloudConfig.model_validate(base | config))
        started.append(svc)
        svc.start()
        assert svc.collector.wait_connected(10)
        return svc

    yield start
    for svc in reversed(started):
        svc.stop()


@pytest.fixture
def service(start_service: StartService) -> CloudService:
    """A running service with the default config."""
    return start_service()
