"""SqliteStore specifics: durability on return and a writer beside a reader."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cloud.timeseries import LevelPoint, SqliteStore

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def _points(batch: int, size: int = 50) -> list[LevelPoint]:
    return [
        LevelPoint(
            site="s1",
            device="d1",
            location=f"L{i % 5}",
            sku="SKU-1",
            time=T0 + timedelta(seconds=batch * size + i),
            quantity=float(i),
        )
        for i in range(size)
    ]


def test_written_points_are_committed_for_other_connections(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "levels.db")
    store.write_levels(_points(0))
    # Another connection (another process, in real life) sees them at once.
    with sqlite3.connect(tmp_path / "levels.db") as other:
        assert other.execute("SELECT COUNT(*) FROM stock_level").fetchone() == (50,)
    store.close()


def test_one_writer_thread_and_one_reader_thread(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "levels.db")
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for batch in range(40):
                store.write_levels(_points(batch))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen = 0
    while not done.is_set():
        count = len(store.level_series("s1", "SKU-1", T0))
        assert count >= seen  # a reader never sees writes go backwards
        seen = count
        assert len(store.latest_levels("s1")) <= 5
    writer.join(timeout=30)
    assert errors == []
    assert len(store.level_series("s1", "SKU-1", T0)) == 40 * 50
    store.close()


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "levels.db")
    store.write_levels(_points(0))
    store.close()
    again = SqliteStore(tmp_path / "levels.db")
    assert len(again.level_series("s1", "SKU-1", T0)) == 50
    again.close()
