"""Every route, every role, against another tenant's objects: nothing leaks.

The routes come from the app itself (`iter_route_contexts(app.routes)`), so a
new route cannot escape the walk: the test fails until the tables below say
how to call it. For each principal (admin, three suppliers, two customers):

* a route naming objects (path parameters) or changing something is called
  with another tenant's objects and must answer 403 or 404;
* a list (or the live stream) is called plain and with its filters set to
  another tenant's codes, and must answer 200;
* and no answer body may contain any marker of a group the principal must
  not see (codes, order reasons, alert messages, webhook URLs).

GET routes are also called with the principal's own objects (200 expected,
403 for admin-only routes), so a 404 above means "hidden", not "broken".
The walk runs on SQLite and PostgreSQL; then everything an admin sees is
compared with before the walk: non-admins changed nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from cloud.api.context import ApiContext
from cloud.api.security import Role
from cloud.suggest.suggest import Effect, Suggestion, Terms
from tests.cloud.api.api_world import Group, Principal, World, build_world, need

# The agreement suggestion recorded for each group's pair (by its SKU), by id.
SUGGESTION_OF = {"sku-alpha": 1, "sku-gamma": 2, "sku-beta": 3}

# How to fill each path parameter from a group; None: the group has no such object.
PARAMS: dict[str, Callable[[Group, str], object]] = {
    "code": lambda g, path: {
        "suppliers": g.supplier,
        "customers": g.customer,
        "sites": g.site,
        "locations": g.location,
        "skus": g.sku,
        "devices": g.device,
    }[path[: path.index("/{code}")].rsplit("/", 1)[-1]],
    "site": lambda g, _path: g.site,
    "sku": lambda g, _path: g.sku,
    "order_id": lambda g, _path: g.order_id,
    "subscription_id": lambda g, _path: g.webhook_id,
    "key_id": lambda g, _path: g.key_id,
    "suggestion_id": lambda g, _path: SUGGESTION_OF.get(g.sku or ""),
}

# A valid body for every route that takes one (so the answer is about access,
# not about the body). Keys: (method, path template).
BODIES: dict[tuple[str, str], Callable[[Group], dict[str, Any]]] = {
    ("POST", "/suppliers"): lambda g: {"code": "new-supplier", "name": "N"},
    ("PATCH", "/suppliers/{code}"): lambda g: {"name": "Renamed"},
    ("POST", "/customers"): lambda g: {"code": "new-customer", "name": "N"},
    ("PATCH", "/customers/{code}"): lambda g: {"name": "Renamed"},
    ("POST", "/sites"): lambda g: {"code": "new-site", "customer": g.customer or "x"},
    ("PATCH", "/sites/{code}"): lambda g: {"name": "Renamed"},
    ("POST", "/sites/{site}/locations"): lambda g: {"code": "new-loc"},
    ("PATCH", "/sites/{site}/locations/{code}"): lambda g: {"description": "moved"},
    ("POST", "/skus"): lambda g: {"code": "new-sku"},
    ("PATCH", "/skus/{code}"): lambda g: {"pack_size": 7},
    ("POST", "/agreements"): lambda g: {
        "supplier": g.supplier or "x",
        "site": g.site or "x",
        "sku": "new-sku",
        "lead_time_days": 1,
        "service_level": 0.9,
        "min_level": 0,
        "max_level": 5,
    },
    ("PATCH", "/agreements/{site}/{sku}"): lambda g: {"lead_time_days": 9},
    ("POST", "/devices"): lambda g: {"code": "new-dev", "site": g.site or "x"},
    ("PATCH", "/devices/{code}"): lambda g: {"kind": "scale"},
    ("POST", "/orders/{order_id}/ship"): lambda g: {"expected_arrival": "2030-01-01T00:00:00Z"},
    ("POST", "/orders/{order_id}/receive"): lambda g: {"quantity": 1},
    ("POST", "/orders/{order_id}/cancel"): lambda g: {"reason": "walk"},
    ("POST", "/suggestions/{suggestion_id}/dismiss"): lambda g: {"note": "walk"},
    ("POST", "/webhooks"): lambda g: {
        "url": "https://walk.example/in",
        "tenant": g.supplier or g.customer,
        "sites": [g.site] if g.site else [],
    },
    ("POST", "/api-keys"): lambda g: {"name": "walk", "role": "supplier", "tenant": g.supplier},
}

# List filters set to another tenant's codes.
FILTERS: dict[str, Callable[[Group], object]] = {
    "site": lambda g: g.site,
    "sku": lambda g: g.sku,
    "supplier": lambda g: g.supplier,
    "customer": lambda g: g.customer,
}
# Query parameters that are not filters, and what to send.
BOUNDS = {"max_seconds": "0.5", "max_events": None, "offset": None, "limit": None}
BOUNDS.update({"from": None, "to": None, "interval": None, "status": None, "kind": None})
BOUNDS.update({"by": None})

NO_KEY_ROUTES = {
    "/health",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/connectors/{link}/hook",  # its own token (tests/cloud/api/test_api_connectors.py)
}
ADMIN_ONLY = re.compile(r"^/api-keys")


class Walk:
    def __init__(self, client: TestClient, app: FastAPI) -> None:
        self.client = client
        self.openapi = app.openapi()
        # The portal's pages (sessions, not keys) have their own tenancy tests:
        # tests/cloud/portal/test_pages.py.
        self.routes = sorted(
            (method, rc.path)
            for rc in iter_route_contexts(app.routes)
            if rc.path is not None and not rc.path.startswith("/portal")
            for method in set(rc.methods or ()) - {"HEAD"}
        )
        self.checks = 0

    def params_of(self, method: str, path: str) -> list[str]:
        operation = self.openapi["paths"].get(path, {}).get(method.lower(), {})
        return [p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"]

    def request(self, p: Principal, method: str, url: str, **kw: Any) -> tuple[int, str]:
        response = self.client.request(method, url, headers=p.headers, **kw)
        self.checks += 1
        body = response.text
        for marker in p.forbidden:
            assert marker not in body, f"{p.name}: {method} {url} shows {marker!r}: {body[:500]}"
        assert response.status_code < 500, f"{p.name}: {method} {url}: {body[:500]}"
        return response.status_code, body

    def fill(self, path: str, g: Group) -> str | None:
        values = {}
        for name in re.findall(r"{(\w+)}", path):
            assert name in PARAMS, f"the walk does not know path parameter {name!r} of {path}"
            value = PARAMS[name](g, path)
            if value is None:
                return None
            values[name] = value
        return path.format(**values)

    def body(self, method: str, path: str, g: Group) -> dict[str, Any] | None:
        operation = self.openapi["paths"][path][method.lower()]
        if "requestBody" not in operation:
            return None
        assert (method, path) in BODIES, f"the walk has no body for {method} {path}"
        return BODIES[(method, path)](g)

    def object_route(self, p: Principal, method: str, path: str) -> None:
        for g in p.foreign:
            url = self.fill(path, g)
            if url is None:
                continue
            status, _ = self.request(p, method, url, json=self.body(method, path, g))
            if p.role is not Role.ADMIN:
                assert status in (403, 404), f"{p.name}: {method} {url} answered {status}"
        if method == "GET" and p.own is not None:
            url = self.fill(path, p.own)
            if url is not None:
                status, _ = self.request(p, method, url)
                expected = 403 if ADMIN_ONLY.match(path) and p.role is not Role.ADMIN else 200
                assert status == expected, f"{p.name}: own {method} {url} answered {status}"

    def collection_route(self, p: Principal, method: str, path: str) -> None:
        names = self.params_of(method, path)
        unknown = set(names) - set(FILTERS) - set(BOUNDS)
        assert not unknown, f"the walk does not know query parameters {unknown} of {path}"
        bounds = {k: v for k, v in BOUNDS.items() if k in names and v is not None}
        if method != "GET":  # creating: only admins
            g = p.foreign[0]
            status, _ = self.request(p, method, path, json=self.body(method, path, g))
            if p.role is not Role.ADMIN:
                assert status in (403, 404, 422), f"{p.name}: {method} {path} answered {status}"
                if ADMIN_ONLY.match(path) or path != "/webhooks":
                    assert status in (403, 404), f"{p.name}: {method} {path} answered {status}"
            return
        expected = 403 if ADMIN_ONLY.match(path) and p.role is not Role.ADMIN else 200
        status, _ = self.request(p, method, path, params=bounds)
        assert status == expected, f"{p.name}: {method} {path} answered {status}"
        for g in p.foreign:
            filters = {k: FILTERS[k](g) for k in names if k in FILTERS}
            filters = {k: v for k, v in filters.items() if v is not None}
            if filters:
                status, _ = self.request(p, method, path, params={**filters, **bounds})
                assert status == expected, f"{p.name}: {method} {path} {filters}: {status}"

    def run(self, p: Principal) -> None:
        for method, path in self.routes:
            if path in NO_KEY_ROUTES:
                self.request(p, method, path)
            elif "{" in path:
                self.object_route(p, method, path)
            else:
                self.collection_route(p, method, path)


def record_suggestions(world: World) -> None:
    """An open suggestion (better terms) for each group's pair, with `SUGGESTION_OF`'s ids."""
    terms, effect = Terms(0.95, 0.0, 1.0, 2.0), Effect(1.0, 0.9, 3.0, 4.0)
    groups = (world.alpha, world.gamma, world.beta)
    found = [
        Suggestion(
            need(g.site), need(g.sku), terms, effect, Terms(0.99, 7.0, 2.0, 3.0), effect, 0.98
        )
        for g in groups
    ]
    rows = world.context.suggestions.record(
        found, [g.supplier for g in groups], datetime.now(UTC), window_days=90
    )
    assert {r.sku: r.id for r in rows} == SUGGESTION_OF


def snapshot(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    """Everything an admin can list."""
    paths = [
        "/suppliers",
        "/customers",
        "/sites",
        "/skus",
        "/agreements",
        "/devices",
        "/orders",
        "/suggestions",
        "/webhooks",
        "/api-keys",
        "/sites/site-alpha/locations",
        "/sites/site-beta/locations",
    ]
    return {p: client.get(p, headers=headers, params={"limit": 1000}).json() for p in paths}


def test_no_route_shows_another_tenants_objects(
    client: TestClient, app: FastAPI, context: ApiContext, admin: dict[str, str]
) -> None:
    world: World = build_world(client, context, admin)
    record_suggestions(world)
    principals = world.principals()
    walk = Walk(client, app)
    assert len(walk.routes) > 60
    before = snapshot(client, admin)
    # Non-admins first: nothing they do may change anything; the admin last,
    # whose changes (e.g. deleting another tenant's device) are allowed.
    for p in principals[1:]:
        walk.run(p)
    after = snapshot(client, admin)
    assert {k: v for k, v in after.items() if k != "/api-keys"} == {
        k: v for k, v in before.items() if k != "/api-keys"
    }
    walk.run(principals[0])
    print(f"{walk.checks} requests over {len(walk.routes)} routes x {len(principals)} principals")
    assert walk.checks > 600


@pytest.mark.parametrize("role", ["supplier", "customer"])
def test_lists_show_only_own_objects(
    client: TestClient, context: ApiContext, admin: dict[str, str], role: str
) -> None:
    """The positive side: what a supplier and a customer do see, exactly."""
    world = build_world(client, context, admin)
    by_name = {p.name: p for p in world.principals()}
    p = by_name["sup-alpha" if role == "supplier" else "cust-alpha"]

    def codes(path: str, key: str = "code") -> list[object]:
        response = client.get(path, headers=p.headers)
        assert response.status_code == 200, response.text
        return [item[key] for item in response.json()["data"]]

    if role == "supplier":
        assert codes("/suppliers") == ["sup-alpha"]
        assert codes("/skus") == ["sku-alpha"]
        assert codes("/devices") == ["dev-alpha"]
        assert codes("/agreements", "sku") == ["sku-alpha"]
        assert codes("/levels", "sku") == ["sku-alpha"]
        assert codes("/alerts", "kind") == ["sensor_silent", "reorder"]
        assert codes("/orders", "reason") == ["reason-alpha"]
    else:
        assert codes("/suppliers") == ["sup-alpha", "sup-gamma"]
        assert codes("/skus") == ["sku-alpha", "sku-gamma"]
        assert codes("/devices") == ["dev-alpha", "dev-gamma"]
        assert sorted(codes("/levels", "sku")) == ["sku-alpha", "sku-gamma"]
        assert len(codes("/alerts", "kind")) == 4
        assert sorted(codes("/orders", "reason")) == ["reason-alpha", "reason-gamma"]
    assert codes("/sites") == ["site-alpha"]
    assert codes("/customers") == ["cust-alpha"]
    assert codes("/sites/site-alpha/locations") == ["loc-alpha-1", "loc-gamma-1"]
    assert codes("/projections", "sku") == (
        ["sku-alpha"] if role == "supplier" else ["sku-alpha", "sku-gamma"]
    )
    assert codes("/webhooks", "tenant") == [p.tenant]
