"""The cloud service runs the suggestions job when `[suggestions] enabled` (real
Mosquitto, SQLite stores) and records what it finds for the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cloud.config import CloudConfig
from cloud.service import CloudService
from cloud.timeseries import SqliteStore
from cloud.timeseries.base import LevelPoint
from tests.servers import MosquittoServer
from tests.waiting import wait_for


def test_the_service_records_suggestions(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str
) -> None:
    now = datetime.now(UTC)
    store = SqliteStore(tmp_path / "levels.db")
    # A shelf nobody takes from for three weeks: dead stock, whatever the terms.
    store.write_levels(
        [LevelPoint(unique_id, "d", "A-01", "X", now - timedelta(days=d), 40.0) for d in range(21)]
    )
    store.close()
    config = CloudConfig.model_validate(
        {
            "mqtt": {"url": mosquitto.url, "client_id": f"c-{unique_id}"},
            "store": {"url": f"sqlite:///{tmp_path / 'levels.db'}"},
            "orders": {"url": f"sqlite:///{tmp_path / 'orders.db'}"},
            "health_interval_s": 0,
            "kpis": {"enabled": False},
            "suggestions": {"interval_s": 0.3, "window_days": 30},
        }
    )
    svc = CloudService(config)
    svc.start()
    try:
        wait_for(lambda: svc.suggestions.stats.runs >= 1, 20, lambda: f"{svc.suggestions.stats}")
        found = svc.suggestion_book.suggestions(sites=[unique_id])
    finally:
        svc.stop()
    assert svc.suggestions.stats.failures == 0
    assert [(s.sku, s.flags) for s in found] == [("X", "dead_stock")]
