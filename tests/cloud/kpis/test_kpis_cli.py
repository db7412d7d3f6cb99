"""`vmi report kpis` on real SQLite stores, as a user runs it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud.orders import OrderBook
from cloud.timeseries import SqliteStore
from cloud.timeseries.base import LevelPoint
from vmi.cli import main


def _world(tmp_path: Path) -> Path:
    now = datetime.now(UTC)
    t0 = now - timedelta(days=9.5)
    store = SqliteStore(tmp_path / "levels.db")
    levels = [45, 30, 20, 10, 0, None, 60, 50, 40]  # a reading each day; empty days 4-5
    points = [
        LevelPoint("north", "d1", "A-01", "BOLT", t0 + timedelta(days=i), float(q))
        for i, q in enumerate(levels)
        if q is not None
    ]
    points += [
        LevelPoint("north", "d1", "A-02", "NUT", t0 + timedelta(days=i), 100.0 - 5 * i)
        for i in range(9)
    ]
    points += [LevelPoint("south", "d2", "B-01", "BOLT", t0, 7.0)]
    store.write_levels(points)
    store.close()
    orders = OrderBook(f"sqlite:///{tmp_path / 'orders.db'}")
    orders.create(
        site="north", sku="BOLT", quantity=60, reason="test", on_hand=10,
        rate_per_day=10, at=t0 + timedelta(days=3),
    )  # fmt: skip
    orders.close()
    config = tmp_path / "cloud.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "levels.db"}"\n'
        f'[orders]\nurl = "sqlite:///{tmp_path / "orders.db"}"\n'
    )
    return config


def test_csv_per_key_and_rolled_up_by_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _world(tmp_path)
    argv = ["report", "kpis", "--config", str(config), "--days", "10", "--format", "csv"]
    assert main(argv) == 0
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert set(rows) == {"north/BOLT", "north/NUT", "south/BOLT"}
    bolt = rows["north/BOLT"]
    assert float(bolt["consumed"]) == pytest.approx(45 + 20)
    assert int(bolt["stockout_events"]) == 1
    assert float(bolt["stockout_hours"]) == pytest.approx(48)
    assert int(bolt["orders_placed"]) == 1
    assert float(bolt["avg_order_qty"]) == 60
    assert float(rows["north/NUT"]["consumed"]) == pytest.approx(40)
    assert float(rows["north/NUT"]["fill_rate"]) == 1.0
    assert rows["south/BOLT"]["fill_rate"] == ""  # nothing consumed, nothing lost

    assert main([*argv, "--by", "site"]) == 0
    sites = {r["group"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert set(sites) == {"north", "south"}
    assert int(sites["north"]["keys"]) == 2
    assert float(sites["north"]["consumed"]) == pytest.approx(105)


def test_table_for_one_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _world(tmp_path)
    assert main(["report", "kpis", "--config", str(config), "--site", "south"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["group", "keys", "supplier"]
    assert len(out) == 2
    assert out[1].startswith("south/BOLT")
    assert "unassigned" in out[1]


def test_a_missing_config_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "kpis", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "vmi: error:" in capsys.readouterr().err


def test_without_an_agreement_orders_are_due_after_the_configured_lead_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _world(tmp_path)
    orders = OrderBook(f"sqlite:///{tmp_path / 'orders.db'}")
    (order,) = orders.orders("north")
    orders.receive_refill(order.id, order.created_at + timedelta(days=1.5), 60)  # on time
    late = orders.create(
        site="north", sku="NUT", quantity=10, reason="test", on_hand=1,
        rate_per_day=5, at=order.created_at,
    )  # fmt: skip
    assert late is not None
    orders.receive_refill(late.id, order.created_at + timedelta(days=4), 10)
    orders.close()
    with config.open("a") as f:
        f.write("[replenishment.default]\nlead_time_days = 2\n")
    argv = ["report", "kpis", "--config", str(config), "--days", "10", "--format", "csv"]
    assert main(argv) == 0
    rows = {r["group"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert float(rows["north/BOLT"]["on_time_rate"]) == 1.0
    assert float(rows["north/NUT"]["on_time_rate"]) == 0.0
    assert float(rows["north/NUT"]["avg_lead_time_days"]) == pytest.approx(4.0)
