"""Catalog routes with an admin key: create, read, update, delete each kind,
and the answers for missing, duplicate, invalid and in-use entries; on SQLite
and PostgreSQL. Non-admins may not change the catalog."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cloud.api.context import ApiContext
from cloud.api.security import Role
from tests.cloud.api.conftest import bearer, new_token

AGREEMENT = {
    "supplier": "fast",
    "site": "north",
    "sku": "BOLT",
    "lead_time_days": 2,
    "service_level": 0.95,
    "min_level": 1,
    "max_level": 5,
}


def created(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def stocked(client: TestClient, admin: dict[str, str]) -> None:
    created(client, "/customers", {"code": "acme", "name": "ACME"}, admin)
    created(client, "/suppliers", {"code": "fast", "name": "Fast", "email": "a@b.example"}, admin)
    created(client, "/sites", {"code": "north", "customer": "acme"}, admin)
    created(client, "/sites/north/locations", {"code": "A-01", "kind": "bin"}, admin)
    created(client, "/skus", {"code": "BOLT", "gtin": "4012345000016", "pack_size": 50}, admin)
    created(client, "/agreements", AGREEMENT, admin)
    device = {"code": "gw", "site": "north", "bindings": [{"location": "A-01", "sku": "BOLT"}]}
    created(client, "/devices", device, admin)


@pytest.mark.usefixtures("stocked")
def test_entries_come_back_as_stored(client: TestClient, admin: dict[str, str]) -> None:
    assert client.get("/skus/BOLT", headers=admin).json()["gtin"] == "04012345000016"
    assert client.get("/sites/north/locations/A-01", headers=admin).json() == {
        "site": "north",
        "code": "A-01",
        "kind": "bin",
        "description": None,
    }
    agreement = client.get("/agreements/north/BOLT", headers=admin).json()
    assert agreement["supplier"] == "fast"
    assert agreement["level_unit"] == "units"
    assert client.get("/devices/gw", headers=admin).json()["bindings"] == [
        {"location": "A-01", "sku": "BOLT"}
    ]
    page = client.get("/suppliers", headers=admin).json()
    assert page == {"data": [{"code": "fast", "name": "Fast", "email": "a@b.example"}], "count": 1}
    # Metrics name route templates, never the codes in a path.
    metrics = client.get("/metrics").text
    assert 'vmi_api_requests_total{method="GET",route="/skus/{code}",status="200"} 1' in metrics
    assert "BOLT" not in metrics


@pytest.mark.usefixtures("stocked")
def test_updates_change_only_what_is_sent(client: TestClient, admin: dict[str, str]) -> None:
    response = client.patch("/skus/BOLT", json={"pack_size": 25}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["pack_size"] == 25
    assert response.json()["gtin"] == "04012345000016"
    response = client.patch("/sites/north", json={"name": None}, headers=admin)
    assert response.json()["name"] is None
    response = client.patch("/agreements/north/BOLT", json={"min_level": 9}, headers=admin)
    assert response.status_code == 422  # above max_level 5
    assert "min_level" in response.json()["detail"][0]["msg"]
    response = client.patch("/skus/BOLT", json={"code": "OTHER"}, headers=admin)
    assert response.status_code == 422  # keys cannot change
    response = client.patch("/devices/gw", json={"bindings": []}, headers=admin)
    assert response.json()["bindings"] == []


@pytest.mark.usefixtures("stocked")
def test_missing_duplicate_invalid_and_in_use(client: TestClient, admin: dict[str, str]) -> None:
    assert client.get("/skus/NOPE", headers=admin).status_code == 404
    assert client.get("/skus/NOPE", headers=admin).json() == {"detail": "Not Found"}
    assert client.patch("/skus/NOPE", json={}, headers=admin).status_code == 404
    assert client.delete("/skus/NOPE", headers=admin).status_code == 404
    assert client.post("/skus", json={"code": "BOLT"}, headers=admin).status_code == 409
    # Another SKU with the same GTIN.
    response = client.post("/skus", json={"code": "X", "gtin": "4012345000016"}, headers=admin)
    assert response.status_code == 409
    response = client.post("/sites", json={"code": "s", "customer": "ghost"}, headers=admin)
    assert response.status_code == 422
    assert "ghost" in response.json()["detail"][0]["msg"]
    response = client.post("/skus", json={"code": "bad code"}, headers=admin)
    assert response.status_code == 422
    response = client.post("/skus", json={"code": "Y", "gtin": "4012345000019"}, headers=admin)
    assert response.status_code == 422  # check digit
    assert client.delete("/skus/BOLT", headers=admin).status_code == 409
    assert client.delete("/customers/acme", headers=admin).status_code == 409
    assert (
        client.post("/sites/ghost/locations", json={"code": "B"}, headers=admin).status_code == 404
    )


@pytest.mark.usefixtures("stocked")
def test_deleting_in_order_empties_the_catalog(client: TestClient, admin: dict[str, str]) -> None:
    for path in (
        "/devices/gw",
        "/agreements/north/BOLT",
        "/sites/north/locations/A-01",
        "/sites/north",
        "/skus/BOLT",
        "/suppliers/fast",
        "/customers/acme",
    ):
        response = client.delete(path, headers=admin)
        assert response.status_code == 204, (path, response.text)
        assert client.get(path, headers=admin).status_code == 404
    for path in ("/suppliers", "/customers", "/sites", "/skus", "/agreements", "/devices"):
        assert client.get(path, headers=admin).json() == {"data": [], "count": 0}


def test_paging(client: TestClient, admin: dict[str, str]) -> None:
    for i in range(7):
        created(client, "/skus", {"code": f"S{i}"}, admin)
    page = client.get("/skus", params={"offset": 2, "limit": 3}, headers=admin).json()
    assert page["count"] == 7
    assert [s["code"] for s in page["data"]] == ["S2", "S3", "S4"]
    assert client.get("/skus", params={"limit": 0}, headers=admin).status_code == 422
    assert client.get("/skus", params={"limit": 5000}, headers=admin).status_code == 422


@pytest.mark.usefixtures("stocked")
def test_only_admins_change_the_catalog(client: TestClient, context: ApiContext) -> None:
    supplier = bearer(new_token(context, Role.SUPPLIER, "fast"))
    customer = bearer(new_token(context, Role.CUSTOMER, "acme"))
    for headers in (supplier, customer):
        assert client.post("/skus", json={"code": "NEW"}, headers=headers).status_code == 403
        assert client.patch("/skus/BOLT", json={"pack_size": 2}, headers=headers).status_code == 403
        assert client.delete("/sites/north/locations/A-01", headers=headers).status_code == 403
        assert client.get("/sites/north", headers=headers).status_code == 200
    # What a key may not see is not there at all: 404, not 403.
    assert client.patch("/skus/OTHER", json={}, headers=supplier).status_code == 404


@pytest.mark.usefixtures("stocked")
def test_keys_read_only_revoked_expired(client: TestClient, context: ApiContext) -> None:
    from datetime import UTC, datetime, timedelta

    read_only = bearer(new_token(context, Role.ADMIN, read_only=True))
    assert client.get("/skus", headers=read_only).status_code == 200
    assert client.post("/skus", json={"code": "N"}, headers=read_only).status_code == 403
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired = bearer(new_token(context, Role.ADMIN, expires_at=past))
    assert client.get("/skus", headers=expired).status_code == 401
    admin_token = new_token(context, Role.ADMIN)
    admin = bearer(admin_token)
    key_id = next(k.id for k in context.keys.entries() if admin_token.startswith(k.prefix))
    assert client.post(f"/api-keys/{key_id}/revoke", headers=admin).status_code == 200
    response = client.get("/skus", headers=admin)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/skus", headers=bearer(admin_token + "x")).status_code == 401
    assert client.get("/skus", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/skus").status_code == 401
