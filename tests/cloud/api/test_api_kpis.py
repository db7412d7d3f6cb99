"""`GET /kpis` on the test world (`api_world`): exact KPIs of hand-made level
series, orders and forecasts, and what each role's rows and roll-ups hold.

The series live in a fixed window long past (the world's own data is from
now, outside it). One reading each midnight from T0:

* site-alpha / sku-alpha (sup-alpha): 45, 30, 20, 10, 0, (none), 60, 50, 40, 30:
  75 consumed, 28.5 on hand on average, one stockout of 48 h; two orders;
* site-alpha / sku-gamma (sup-gamma): 20, 18, ..., 2: 18 consumed, 11 on hand;
  a forecast of 3 a day made before the window;
* site-beta / sku-beta (sup-beta): 8 on day 0, 4 on day 5: 4 consumed, 6 on hand;
* site-beta / sku-orphan (no agreement): 5 all along.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cloud.api import create_app
from cloud.api.context import ApiContext
from cloud.api.security import Role
from cloud.timeseries import LevelPoint
from cloud.timeseries.measurements import PROJECTION
from tests.cloud.api.api_world import Principal, World, build_world, need
from tests.cloud.api.conftest import api_settings_for, bearer, new_token

T0 = datetime(2025, 3, 3, tzinfo=UTC)
WINDOW = {"from": "2025-03-03T00:00:00Z", "to": "2025-03-13T00:00:00Z"}
FIGURES = (
    "consumed",
    "avg_on_hand",
    "turns_per_year",
    "days_of_supply",
    "stockout_events",
    "stockout_hours",
    "lost_units",
    "fill_rate",
    "orders_placed",
    "avg_order_qty",
    "deliveries",
    "on_time_rate",
    "avg_lead_time_days",
    "forecast_days",
    "forecast_bias",
    "forecast_mae",
    "forecast_mase",
)


def day(d: float) -> datetime:
    return T0 + timedelta(days=d)


def series(
    site: str, device: str, location: str, sku: str, readings: dict[int, float]
) -> list[LevelPoint]:
    return [LevelPoint(site, device, location, sku, day(d), q) for d, q in readings.items()]


def write_window(world: World) -> None:
    """The series, orders and forecast of the module docstring."""
    context = world.context
    a, g, b = world.alpha, world.gamma, world.beta
    alpha = {0: 45, 1: 30, 2: 20, 3: 10, 4: 0, 6: 60, 7: 50, 8: 40, 9: 30}
    levels = series(need(a.site), need(a.device), need(a.location), need(a.sku), alpha)
    gamma = {d: 20.0 - 2 * d for d in range(10)}
    levels += series(need(g.site), need(g.device), need(g.location), need(g.sku), gamma)
    levels += series(need(b.site), need(b.device), need(b.location), need(b.sku), {0: 8, 5: 4})
    levels += series("site-beta", "dev-orphan", "loc-beta-1", "sku-orphan", {0: 5, 9: 5})
    context.store.write_levels(levels)
    context.store.write_points(
        [
            PROJECTION.point(
                tags={"site": need(g.site), "sku": need(g.sku), "supplier": need(g.supplier)},
                fields={"on_hand": 20.0, "rate_per_day": 3.0},
                time=day(-1 / 24),
            )
        ]
    )
    # The world's open order of sku-alpha (placed now) goes; two placed in the window:
    # one due on day 5 and received on day 6 (late, 3 days), one still open.
    orders = context.orders
    orders.cancel(need_id(a.order_id), datetime.now(UTC), "make room")
    late = orders.create(
        site=need(a.site),
        sku=need(a.sku),
        quantity=60,
        reason="window",
        on_hand=10.0,
        rate_per_day=10.0,
        at=day(3),
        supplier=a.supplier,
    )
    assert late is not None
    orders.confirm(late.id, day(3.5))
    orders.ship(late.id, expected_arrival=day(5), at=day(4))
    orders.receive(late.id, day(6))
    open_one = orders.create(
        site=need(a.site),
        sku=need(a.sku),
        quantity=40,
        reason="window",
        on_hand=50.0,
        rate_per_day=10.0,
        at=day(7),
        supplier=a.supplier,
    )
    assert open_one is not None


def need_id(value: int | None) -> int:
    assert value is not None
    return value


@pytest.fixture
def world(client: TestClient, context: ApiContext, admin: dict[str, str]) -> World:
    w = build_world(client, context, admin)
    write_window(w)
    return w


@pytest.fixture
def keys(world: World) -> dict[str, Principal]:
    """A principal (API key) per name: admin, sup-alpha, sup-gamma, sup-beta, cust-alpha, ..."""
    return {p.name: p for p in world.principals()}


def kpis(client: TestClient, p: Principal, **params: str) -> list[dict[str, Any]]:
    response = client.get("/kpis", params={**WINDOW, **params}, headers=p.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert page["count"] == len(page["data"])
    rows: list[dict[str, Any]] = page["data"]
    return rows


def figures(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in FIGURES}


def test_admin_gets_exact_kpis_per_key(client: TestClient, keys: dict[str, Principal]) -> None:
    check_every_key(kpis(client, keys["admin"]))


def test_the_same_from_influxdb(influx_db_url: str, sqlite_url: str, tmp_path: Path) -> None:
    """The store's queries behind the KPIs (stored keys, series, projections) on InfluxDB."""
    app = create_app(api_settings_for(sqlite_url, tmp_path, timeseries_url=influx_db_url))
    with TestClient(app) as client:
        context: ApiContext = app.state.context
        world = build_world(client, context, bearer(new_token(context, Role.ADMIN)))
        write_window(world)
        by_name = {p.name: p for p in world.principals()}
        check_every_key(kpis(client, by_name["admin"]))
        assert [r["group"] for r in kpis(client, by_name["sup-gamma"], by="site")] == ["site-alpha"]


def check_every_key(rows: list[dict[str, Any]]) -> None:
    """The admin's rows of the module docstring's series, figure by figure."""
    assert [r["group"] for r in rows] == [
        "site-alpha/sku-alpha",
        "site-alpha/sku-gamma",
        "site-beta/sku-beta",
        "site-beta/sku-orphan",
    ]
    alpha, gamma, beta, orphan = rows
    assert (alpha["site"], alpha["sku"], alpha["keys"]) == ("site-alpha", "sku-alpha", 1)
    assert (alpha["supplier"], alpha["customer"]) == ("sup-alpha", "cust-alpha")
    assert (alpha["from"], alpha["to"]) == ("2025-03-03T00:00:00Z", "2025-03-13T00:00:00Z")
    # 15 + 10 + 10 + 10 before the stockout, 10 + 10 + 10 after; the refill is no consumption.
    assert alpha["consumed"] == pytest.approx(75)
    # (45 + 30 + 20 + 10 + 0 + 0 + 60 + 50 + 40 + 30) unit-days over 10 days.
    assert alpha["avg_on_hand"] == pytest.approx(28.5)
    assert alpha["turns_per_year"] == pytest.approx(75 * 365 / 10 / 28.5)
    assert alpha["days_of_supply"] == pytest.approx(28.5 / 7.5)
    assert (alpha["stockout_events"], alpha["stockout_hours"]) == (1, pytest.approx(48))
    # No forecast: the 2 empty days are charged 75 units per 8 in-stock days.
    assert alpha["lost_units"] == pytest.approx(18.75)
    assert alpha["fill_rate"] == pytest.approx(0.8)
    # Placed on days 3 and 7 (60 and 40; the world's order of now is outside the window).
    assert (alpha["orders_placed"], alpha["avg_order_qty"]) == (2, pytest.approx(50))
    assert (alpha["deliveries"], alpha["on_time_rate"]) == (1, 0.0)
    assert alpha["avg_lead_time_days"] == pytest.approx(3)
    assert (alpha["forecast_days"], alpha["forecast_bias"], alpha["forecast_mase"]) == (
        0,
        None,
        None,
    )

    assert gamma["consumed"] == pytest.approx(18)
    assert gamma["avg_on_hand"] == pytest.approx(11)
    assert (gamma["stockout_events"], gamma["lost_units"], gamma["fill_rate"]) == (0, 0.0, 1.0)
    assert (gamma["orders_placed"], gamma["avg_order_qty"], gamma["deliveries"]) == (0, None, 0)
    # Days 0-8 scored (day 9 is the last reading's): forecast 3, actual 2 each.
    assert gamma["forecast_days"] == 9
    assert gamma["forecast_bias"] == pytest.approx(1)
    assert gamma["forecast_mae"] == pytest.approx(1)
    assert gamma["forecast_mase"] is None  # the actuals never change: no naive error

    assert (beta["consumed"], beta["avg_on_hand"]) == (pytest.approx(4), pytest.approx(6))
    assert (beta["supplier"], beta["customer"]) == ("sup-beta", "cust-beta")
    assert (orphan["consumed"], orphan["avg_on_hand"]) == (0.0, pytest.approx(5))
    assert (orphan["turns_per_year"], orphan["days_of_supply"], orphan["fill_rate"]) == (
        0.0,
        None,
        None,
    )
    assert orphan["supplier"] == "unassigned"


def test_admin_rolls_up_by_site_customer_and_supplier(
    client: TestClient, keys: dict[str, Principal]
) -> None:
    admin = keys["admin"]
    by_key = {r["group"]: r for r in kpis(client, admin)}
    alpha, gamma = by_key["site-alpha/sku-alpha"], by_key["site-alpha/sku-gamma"]

    sites = kpis(client, admin, by="site")
    assert [(r["group"], r["keys"]) for r in sites] == [("site-alpha", 2), ("site-beta", 2)]
    site_alpha = sites[0]
    assert (site_alpha["site"], site_alpha["sku"]) == ("site-alpha", None)
    assert (site_alpha["customer"], site_alpha["supplier"]) == ("cust-alpha", None)
    assert site_alpha["consumed"] == pytest.approx(75 + 18)
    assert site_alpha["avg_on_hand"] == pytest.approx(28.5 + 11)  # stock adds up
    assert site_alpha["stockout_events"] == 1
    assert site_alpha["fill_rate"] == pytest.approx(93 / (93 + 18.75))
    assert site_alpha["orders_placed"] == 2
    assert site_alpha["forecast_days"] == 9
    assert site_alpha["consumed"] == pytest.approx(alpha["consumed"] + gamma["consumed"])

    customers = kpis(client, admin, by="customer")
    assert [(r["group"], r["keys"], r["customer"]) for r in customers] == [
        ("cust-alpha", 2, "cust-alpha"),
        ("cust-beta", 2, "cust-beta"),
    ]
    assert figures(customers[0]) == figures(site_alpha)

    suppliers = kpis(client, admin, by="supplier")
    assert [(r["group"], r["keys"], r["site"]) for r in suppliers] == [
        ("sup-alpha", 1, "site-alpha"),
        ("sup-beta", 1, "site-beta"),
        ("sup-gamma", 1, "site-alpha"),
        ("unassigned", 1, "site-beta"),
    ]
    assert figures(suppliers[0]) == figures(alpha)
    assert figures(suppliers[2]) == figures(gamma)


def test_a_supplier_measures_only_its_own_pairs(
    client: TestClient, keys: dict[str, Principal]
) -> None:
    by_key = {r["group"]: r for r in kpis(client, keys["admin"])}
    for name, pair in (
        ("sup-alpha", "site-alpha/sku-alpha"),
        ("sup-gamma", "site-alpha/sku-gamma"),
        ("sup-beta", "site-beta/sku-beta"),
    ):
        p = keys[name]
        own = kpis(client, p)
        assert own == [by_key[pair]], name
        # Its site roll-up holds only its own pair, not the other supplier's (or
        # the orphan SKU) at the same site.
        (site_row,) = kpis(client, p, by="site")
        assert (site_row["group"], site_row["keys"]) == (pair.split("/")[0], 1)
        assert site_row["supplier"] == name
        assert figures(site_row) == figures(by_key[pair])
        (supplier_row,) = kpis(client, p, by="supplier")
        assert (supplier_row["group"], supplier_row["keys"]) == (name, 1)
        (customer_row,) = kpis(client, p, by="customer")
        assert figures(customer_row) == figures(by_key[pair])
    sup_alpha = keys["sup-alpha"]
    # Another supplier's SKU at its own site, and another customer's site: nothing.
    assert kpis(client, sup_alpha, sku="sku-gamma") == []
    assert kpis(client, sup_alpha, site="site-beta") == []
    assert kpis(client, sup_alpha, site="site-beta", by="site") == []
    assert kpis(client, sup_alpha, site="no-such-site") == []


def test_a_customer_sees_only_its_sites(client: TestClient, keys: dict[str, Principal]) -> None:
    admin = keys["admin"]
    alpha = keys["cust-alpha"]
    assert [r["group"] for r in kpis(client, alpha)] == [
        "site-alpha/sku-alpha",
        "site-alpha/sku-gamma",
    ]
    assert kpis(client, alpha, site="site-beta") == []
    assert kpis(client, alpha, sku="sku-beta") == []
    (own_site,) = kpis(client, alpha, by="site")
    assert own_site == kpis(client, admin, by="site", site="site-alpha")[0]
    assert [r["group"] for r in kpis(client, alpha, by="supplier")] == ["sup-alpha", "sup-gamma"]

    beta = keys["cust-beta"]
    assert [r["group"] for r in kpis(client, beta)] == [
        "site-beta/sku-beta",
        "site-beta/sku-orphan",  # every SKU at its site, agreement or not
    ]
    (customer_row,) = kpis(client, beta, by="customer")
    assert (customer_row["group"], customer_row["keys"]) == ("cust-beta", 2)
    assert kpis(client, beta, site="site-alpha") == []


def test_filters_paging_and_the_default_window(
    client: TestClient, keys: dict[str, Principal]
) -> None:
    admin = keys["admin"]
    assert [r["group"] for r in kpis(client, admin, sku="sku-beta")] == ["site-beta/sku-beta"]
    assert [r["group"] for r in kpis(client, admin, site="site-beta", sku="sku-beta")] == [
        "site-beta/sku-beta"
    ]
    page = client.get("/kpis", params={**WINDOW, "limit": 1, "offset": 1}, headers=admin.headers)
    assert page.json()["count"] == 4
    assert [r["group"] for r in page.json()["data"]] == ["site-alpha/sku-gamma"]
    # A window without data: every key still has a row, with nothing measured.
    quiet = kpis(client, admin, **{"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"})
    assert [(r["consumed"], r["avg_on_hand"], r["fill_rate"]) for r in quiet] == [
        (0.0, None, None)
    ] * 4
    # Default: the 30 days before now, which hold the world's own readings.
    response = client.get("/kpis", params={"site": "site-alpha"}, headers=admin.headers)
    assert response.status_code == 200, response.text
    row = response.json()["data"][0]
    since = datetime.fromisoformat(row["from"])
    until = datetime.fromisoformat(row["to"])
    assert until - since == timedelta(days=30)
    assert abs(until - datetime.now(UTC)) < timedelta(minutes=5)
    assert row["avg_on_hand"] == pytest.approx(10, abs=2)  # 12, 11, 9 in the last 30 minutes
    only_to = client.get("/kpis", params={"to": "2025-03-13T00:00:00Z"}, headers=admin.headers)
    assert only_to.json()["data"][0]["from"] == "2025-02-11T00:00:00Z"
    assert only_to.json()["data"][0]["consumed"] == pytest.approx(75)


@pytest.mark.parametrize(
    "params",
    [
        {"by": "sku"},
        {"by": ""},
        {"from": "2025-03-13T00:00:00Z", "to": "2025-03-03T00:00:00Z"},
        {"from": "2025-03-03T00:00:00Z", "to": "2025-03-03T00:00:00Z"},
        {"from": "2020-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"},  # over 400 days
        {"from": "2000-01-01T00:00:00Z"},  # to now: over 400 days
        {"from": "2025-03-03T00:00:00"},  # no UTC offset
        {"from": "0001-01-01T00:00:00+14:00"},  # before year 1 in UTC
        {"from": "yesterday"},
        {"site": "../x"},
        {"site": "site-alpha/../site-beta"},
        {"sku": "x" * 65},
        {"site": ""},
        {"limit": "0"},
        {"offset": "-1"},
    ],
)
def test_bad_requests_answer_422(
    client: TestClient, admin: dict[str, str], params: dict[str, str]
) -> None:
    response = client.get("/kpis", params={**WINDOW, **params}, headers=admin)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)


def test_edges_of_time_are_answered(client: TestClient, keys: dict[str, Principal]) -> None:
    admin = keys["admin"]
    far = {"from": "8999-12-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"}  # `to` is clamped
    assert [r["consumed"] for r in kpis(client, admin, **far)] == [0.0] * 4
    epoch = {"from": "1970-01-01T00:00:00Z", "to": "1970-01-02T00:00:00Z"}
    assert [r["consumed"] for r in kpis(client, admin, **epoch)] == [0.0] * 4
    longest = {"from": "2024-03-01T00:00:00Z", "to": "2025-04-01T00:00:00Z"}  # 396 days
    rows = kpis(client, admin, **longest)
    assert rows[0]["consumed"] == pytest.approx(75)


def test_a_key_is_required(client: TestClient, world: World) -> None:
    assert client.get("/kpis", params=WINDOW).status_code == 401
    bad = {"Authorization": "Bearer vmi_nothing_here"}
    assert client.get("/kpis", params=WINDOW, headers=bad).status_code == 401
