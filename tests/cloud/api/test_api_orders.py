"""Order lifecycle through the API: who may confirm, ship, receive and cancel,
and what the lifecycle refuses; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from cloud.api.context import ApiContext
from cloud.api.security import Role
from tests.cloud.api.conftest import bearer, new_token


@pytest.fixture
def keys(
    client: TestClient, context: ApiContext, admin: dict[str, str]
) -> dict[str, dict[str, str]]:
    """A supplier managing BOLT at north (customer acme), with one proposed order."""
    for path, body in (
        ("/customers", {"code": "acme", "name": "ACME"}),
        ("/suppliers", {"code": "fast", "name": "Fast"}),
        ("/sites", {"code": "north", "customer": "acme"}),
        ("/skus", {"code": "BOLT"}),
        (
            "/agreements",
            {
                "supplier": "fast",
                "site": "north",
                "sku": "BOLT",
                "lead_time_days": 2,
                "service_level": 0.9,
                "min_level": 0,
                "max_level": 9,
            },
        ),
    ):
        assert client.post(path, json=body, headers=admin).status_code == 201
    order = context.orders.create(
        site="north",
        sku="BOLT",
        quantity=40,
        reason="3 days of cover",
        on_hand=5.0,
        rate_per_day=2.0,
        at=datetime.now(UTC),
        supplier="fast",
    )
    assert order is not None
    assert order.id == 1
    return {
        "admin": admin,
        "supplier": bearer(new_token(context, Role.SUPPLIER, "fast")),
        "customer": bearer(new_token(context, Role.CUSTOMER, "acme")),
    }


def test_the_supplier_ships_and_the_customer_receives(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    supplier, customer = keys["supplier"], keys["customer"]
    order = client.get("/orders/1", headers=customer).json()
    assert order["status"] == "proposed"
    assert order["quantity"] == 40
    assert client.post("/orders/1/confirm", headers=customer).status_code == 403
    response = client.post("/orders/1/confirm", headers=supplier)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"
    arrival = "2030-05-01T08:00:00+02:00"
    response = client.post("/orders/1/ship", json={"expected_arrival": arrival}, headers=supplier)
    assert response.json()["status"] == "shipped"
    assert response.json()["expected_arrival"] == "2030-05-01T06:00:00Z"
    assert client.post("/orders/1/receive", json={}, headers=supplier).status_code == 403
    response = client.post("/orders/1/receive", json={"quantity": 38}, headers=customer)
    assert response.status_code == 200, response.text
    received = response.json()
    assert received["status"] == "received"
    assert received["received_quantity"] == 38
    assert received["received_at"] is not None
    # A received order is final.
    response = client.post("/orders/1/cancel", json={"reason": "late"}, headers=supplier)
    assert response.status_code == 409
    assert "received" in response.json()["detail"]


def test_the_lifecycle_refuses_skipped_steps(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    admin = keys["admin"]
    ship = {"expected_arrival": "2030-05-01T08:00:00Z"}
    assert client.post("/orders/1/ship", json=ship, headers=admin).status_code == 409
    assert client.post("/orders/1/receive", json={}, headers=admin).status_code == 409
    response = client.post("/orders/1/cancel", json={"reason": "not needed"}, headers=admin)
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "not needed"
    assert client.post("/orders/1/confirm", headers=admin).status_code == 409
    assert client.post("/orders/99/confirm", headers=admin).status_code == 404
    naive = {"expected_arrival": "2030-05-01T08:00:00"}
    assert client.post("/orders/1/ship", json=naive, headers=admin).status_code == 422
    assert client.post("/orders/1/cancel", json={"reason": ""}, headers=admin).status_code == 422


def test_lists_filter_by_status(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    supplier = keys["supplier"]
    client.post("/orders/1/confirm", headers=supplier)
    listed = client.get("/orders", params={"status": "confirmed"}, headers=supplier).json()
    assert [o["id"] for o in listed["data"]] == [1]
    assert client.get("/orders", params={"status": "shipped"}, headers=supplier).json() == {
        "data": [],
        "count": 0,
    }
