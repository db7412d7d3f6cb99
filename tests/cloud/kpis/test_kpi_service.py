"""The cloud service runs the KPI job in a thread of its own when `[kpis] enabled`
(real Mosquitto, SQLite stores), one interval after start, and stops it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cloud.config import CloudConfig
from cloud.service import CloudService
from cloud.timeseries import SqliteStore
from cloud.timeseries.base import LevelPoint
from cloud.timeseries.measurements import KPI
from tests.servers import MosquittoServer
from tests.waiting import wait_for


def _config(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str, **kpis: object
) -> CloudConfig:
    return CloudConfig.model_validate(
        {
            "mqtt": {"url": mosquitto.url, "client_id": f"c-{unique_id}"},
            "store": {"url": f"sqlite:///{tmp_path / 'levels.db'}"},
            "orders": {"url": f"sqlite:///{tmp_path / 'orders.db'}"},
            "health_interval_s": 0,
            "kpis": kpis,
        }
    )


def test_the_service_writes_kpi_points_every_interval(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str
) -> None:
    now = datetime.now(UTC)
    store = SqliteStore(tmp_path / "levels.db")
    store.write_levels(
        [
            LevelPoint(unique_id, "d", "A-01", "X", now - timedelta(days=3 - d), q)
            for d, q in enumerate([30.0, 20.0, 10.0])
        ]
    )
    store.close()
    svc = CloudService(_config(tmp_path, mosquitto, unique_id, interval_s=0.3, window_days=7))
    svc.start()
    try:
        wait_for(lambda: svc.kpis.stats.runs >= 2, 20, lambda: f"two runs ({svc.kpis.stats})")
        points = svc.store.points(KPI.name, now - timedelta(days=1))
    finally:
        svc.stop()
    assert svc.kpis.stats.failures == 0
    assert len(points) >= 2
    assert {p.tag("site") for p in points} == {unique_id}
    assert {p.field("consumed") for p in points} == {20.0}
    assert {p.field("window_days") for p in points} == {7.0}


def test_a_disabled_job_has_no_thread(
    tmp_path: Path, mosquitto: MosquittoServer, unique_id: str
) -> None:
    svc = CloudService(_config(tmp_path, mosquitto, unique_id, enabled=False, interval_s=0.05))
    svc.start()
    try:
        threading.Event().wait(0.3)  # six intervals
    finally:
        svc.stop()
    assert (svc.kpis.stats.runs, svc.kpis.stats.failures) == (0, 0)
    assert "kpis" not in [t.name for t in threading.enumerate()]
