"""Levels, level history (bucketed), projections and alerts through the API,
read from the embedded SQLite store and from a real InfluxDB."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cloud.api import create_app
from cloud.api.context import ApiContext
from cloud.api.security import Role
from cloud.timeseries import LevelPoint
from cloud.timeseries.measurements import ALERT, PROJECTION
from tests.cloud.api.conftest import api_settings_for, bearer, new_token

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(params=["sqlite", "influxdb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'levels.db'}"
    url: str = request.getfixturevalue("influx_db_url")
    return url


@pytest.fixture
def api(store_url: str, sqlite_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, ApiContext]]:
    app = create_app(api_settings_for(sqlite_url, tmp_path, timeseries_url=store_url))
    with TestClient(app) as client:
        yield client, app.state.context


@pytest.fixture
def admin_of(api: tuple[TestClient, ApiContext]) -> dict[str, str]:
    return bearer(new_token(api[1], Role.ADMIN))


def write(context: ApiContext) -> None:
    levels = [
        LevelPoint("north", "gw", "A-01", "BOLT", at(5), 10.0),
        LevelPoint("north", "gw", "A-01", "BOLT", at(35), 8.0),
        LevelPoint("north", "gw", "A-01", "BOLT", at(70), 7.0),
        LevelPoint("north", "gw", "A-01", "BOLT", at(170), 20.0),
        LevelPoint("north", "gw", "A-02", "BOLT", at(50), 3.0),
        LevelPoint("north", "gw", "A-03", "NUT", at(10), 99.0),
        LevelPoint("south", "gw2", "B-01", "BOLT", at(15), 5.0),
    ]
    context.store.write_levels(levels)
    context.store.write_points(
        [
            PROJECTION.point(
                tags={"site": "north", "sku": "BOLT", "supplier": "fast"},
                fields={"on_hand": on_hand, "rate_per_day": 4.0, "days_of_cover": on_hand / 4},
                time=at(minute),
            )
            for minute, on_hand in ((60, 11.0), (120, 10.0))
        ]
        + [
            ALERT.point(
                tags={"site": "north", "sku": "BOLT", "kind": "reorder"},
                fields={"message": "reorder 40 x BOLT", "order_id": 3},
                time=at(61),
            ),
            ALERT.point(
                tags={"site": "north", "device": "gw", "kind": "sensor_silent"},
                fields={"message": "gw silent"},
                time=at(90),
            ),
        ]
    )


def test_latest_levels(api: tuple[TestClient, ApiContext], admin_of: dict[str, str]) -> None:
    client, context = api
    write(context)
    page = client.get("/levels", params={"site": "north", "sku": "BOLT"}, headers=admin_of).json()
    assert [(p["location"], p["quantity"]) for p in page["data"]] == [("A-01", 20.0), ("A-02", 3.0)]
    assert page["data"][0]["time"] == "2026-03-02T12:50:00Z"
    assert client.get("/levels", headers=admin_of).json()["count"] == 4


def test_history_in_buckets(api: tuple[TestClient, ApiContext], admin_of: dict[str, str]) -> None:
    client, context = api
    write(context)
    window = {"from": "2026-03-02T10:00:00Z", "to": "2026-03-02T13:00:00Z"}
    response = client.get(
        "/levels/north/BOLT/history", params={**window, "interval": "1h"}, headers=admin_of
    )
    assert response.status_code == 200, response.text
    history = response.json()
    assert history["interval"] == "1h"
    assert history["from"] == "2026-03-02T10:00:00Z"
    a01, a02 = history["series"]
    assert (a01["location"], a02["location"]) == ("A-01", "A-02")
    assert [tuple(b.values()) for b in a01["buckets"]] == [
        ("2026-03-02T10:00:00Z", 9.0, 8.0, 10.0, 8.0, 2),
        ("2026-03-02T11:00:00Z", 7.0, 7.0, 7.0, 7.0, 1),
        ("2026-03-02T12:00:00Z", 20.0, 20.0, 20.0, 20.0, 1),
    ]
    assert list(a01["buckets"][0]) == ["time", "mean", "min", "max", "last", "count"]
    assert a02["buckets"][0]["count"] == 1
    # Without an interval, the smallest that fits the budget (2000): 3 h at 10 s.
    auto = client.get("/levels/north/BOLT/history", params=window, headers=admin_of).json()
    assert auto["interval"] == "10s"
    assert sum(len(s["buckets"]) for s in auto["series"]) == 5


def test_history_refuses_unbounded_queries(
    api: tuple[TestClient, ApiContext], admin_of: dict[str, str]
) -> None:
    client, _ = api
    url = "/levels/north/BOLT/history"
    year = {"from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    assert client.get(url, params={**year, "interval": "1s"}, headers=admin_of).status_code == 422
    assert client.get(url, params={**year, "interval": "1d"}, headers=admin_of).status_code == 200
    decade = {"from": "2016-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    assert client.get(url, params=decade, headers=admin_of).status_code == 422
    backwards = {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    assert client.get(url, params=backwards, headers=admin_of).status_code == 422
    for bad in ("0h", "1w", "h", "1.5h"):
        assert client.get(url, params={"interval": bad}, headers=admin_of).status_code == 422
    naive = {"from": "2026-01-01T00:00:00"}
    assert client.get(url, params=naive, headers=admin_of).status_code == 422


def test_projections(api: tuple[TestClient, ApiContext], admin_of: dict[str, str]) -> None:
    client, context = api
    write(context)
    since = {"from": "2026-03-02T00:00:00Z"}
    latest = client.get("/projections", params=since, headers=admin_of).json()
    assert latest["count"] == 1
    newest = latest["data"][0]
    assert newest["on_hand"] == 10.0
    assert newest["days_of_cover"] == 2.5
    assert newest["supplier"] == "fast"
    assert newest["sigma_per_day"] is None
    history = client.get(
        "/projections/north/BOLT",
        params={**since, "to": "2026-03-03T00:00:00Z"},
        headers=admin_of,
    ).json()
    assert [p["on_hand"] for p in history["data"]] == [11.0, 10.0]


def test_alerts(api: tuple[TestClient, ApiContext], admin_of: dict[str, str]) -> None:
    client, context = api
    write(context)
    window = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}
    alerts = client.get("/alerts", params=window, headers=admin_of).json()["data"]
    assert [(a["kind"], a["sku"], a["device"]) for a in alerts] == [
        ("sensor_silent", None, "gw"),
        ("reorder", "BOLT", None),
    ]
    assert alerts[1]["order_id"] == 3
    assert alerts[1]["message"] == "reorder 40 x BOLT"
    reorders = client.get("/alerts", params={**window, "kind": "reorder"}, headers=admin_of)
    assert reorders.json()["count"] == 1
    assert client.get("/alerts", params={**window, "site": "south"}, headers=admin_of).json() == {
        "data": [],
        "count": 0,
    }
