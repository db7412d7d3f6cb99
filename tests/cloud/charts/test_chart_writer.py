"""Chart points are written in the background, drained on stop, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cloud.charts.writer import ChartWriter
from cloud.timeseries import SqliteStore
from cloud.timeseries.measurements import ALERT

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def alert(minute: int):  # type: ignore[no-untyped-def]
    return ALERT.point(
        tags={"site": "s", "sku": "X", "kind": "reorder"},
        fields={"message": f"m{minute}"},
        time=T0 + timedelta(minutes=minute),
    )


def test_points_are_written_and_drained_on_stop(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "levels.db")
    charts = ChartWriter(store)
    charts.start()
    charts.put([alert(0), alert(1)])
    charts.put([alert(2)])
    charts.stop()
    assert [p.field("message") for p in store.points("alert", T0)] == ["m0", "m1", "m2"]
    assert (charts.written, charts.dropped) == (3, 0)
    store.close()


def test_a_full_queue_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "levels.db")
    charts = ChartWriter(store, max_points=3)
    charts.put([alert(m) for m in range(5)])  # not started: all wait
    assert charts.dropped == 2
    charts.start()
    charts.stop()
    assert [p.field("message") for p in store.points("alert", T0)] == ["m2", "m3", "m4"]
    store.close()
