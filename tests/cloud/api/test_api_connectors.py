"""Connectors through the API: where an order landed in each ERP (tenant-scoped), and the
token-checked hook a remote system calls when one of our orders changed there."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cloud.api import create_app
from cloud.api.context import ApiContext
from cloud.api.routes.connectors import candidates
from cloud.api.security import Role
from cloud.connectors import RemoteRef
from cloud.connectors.models import StepStatus
from cloud.connectors.settings import ConnectorLink
from tests.cloud.api.conftest import api_settings_for, bearer, new_token

TOKEN = "hook-token-0123456789abcdefghij"


@pytest.fixture
def app(sql_url: str, tmp_path: Path) -> FastAPI:
    return create_app(
        api_settings_for(sql_url, tmp_path, connector_hook_tokens={"acme-odoo": TOKEN})
    )


@pytest.fixture
def world(
    client: TestClient, context: ApiContext, admin: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Order 1 (north, supplier fast) in Odoo as S00042; order 2 at another customer's site."""
    for path, body in (
        ("/customers", {"code": "acme", "name": "ACME"}),
        ("/customers", {"code": "zeta", "name": "Zeta"}),
        ("/suppliers", {"code": "fast", "name": "Fast"}),
        ("/sites", {"code": "north", "customer": "acme"}),
        ("/sites", {"code": "far", "customer": "zeta"}),
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
    for site in ("north", "far"):
        made = context.orders.create(
            site=site,
            sku="BOLT",
            quantity=40,
            reason="3 days of cover",
            on_hand=5.0,
            rate_per_day=2.0,
            at=datetime.now(UTC),
            supplier="fast" if site == "north" else None,
        )
        assert made is not None
    ledger = context.connectors
    link = ConnectorLink.model_validate(
        {
            "name": "acme-odoo",
            "connector": {
                "kind": "odoo",
                "url": "https://erp.example.com",
                "database": "d",
                "login": "l",
                "password": "p",
                "model": "sale.order",
            },
        }
    )
    ledger.plan(link, context.orders.orders())
    ledger.save_remote(
        1,
        "acme-odoo",
        RemoteRef(
            system="odoo", record_type="sale.order", id="4711", name="S00042", reference="vmi-1"
        ),
    )
    ledger.save_remote(
        2,
        "acme-odoo",
        RemoteRef(
            system="odoo", record_type="sale.order", id="4712", name="S00043", reference="vmi-2"
        ),
    )
    for order_id in (1, 2):  # read back just now: not due again for poll_s
        ledger.touch_remote(order_id, "acme-odoo")
    return {
        "admin": admin,
        "supplier": bearer(new_token(context, Role.SUPPLIER, "fast")),
        "customer": bearer(new_token(context, Role.CUSTOMER, "acme")),
    }


def test_who_sees_an_order_sees_where_it_landed(
    client: TestClient, world: dict[str, dict[str, str]]
) -> None:
    for who in ("supplier", "customer", "admin"):
        response = client.get("/orders/1/remote", headers=world[who])
        assert response.status_code == 200, response.text
        [remote] = response.json()
        assert remote["link"] == "acme-odoo"
        assert (remote["remote_id"], remote["remote_name"]) == ("4711", "S00042")
        assert remote["reference"] == "vmi-1"
        assert [(s["action"], s["status"]) for s in remote["steps"]] == [("create", "pending")]
    # Order 2 is another customer's: not even its existence shows.
    assert client.get("/orders/2/remote", headers=world["customer"]).status_code == 404
    assert client.get("/orders/2/remote", headers=world["supplier"]).status_code == 404
    assert client.get("/orders/2/remote", headers=world["admin"]).status_code == 200
    assert client.get("/orders/1/remote").status_code == 401


def test_the_hook_marks_the_named_record_for_reading_back(
    client: TestClient, context: ApiContext, world: dict[str, dict[str, str]]
) -> None:
    # An Odoo automated action posting the record it fired on.
    response = client.post(
        "/connectors/acme-odoo/hook",
        json={"_model": "sale.order", "_id": 4711, "state": "sale"},
        headers={"X-VMI-Hook-Token": TOKEN},
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"records": 1}
    assert [r.order_id for r in context.connectors.to_check("acme-odoo", 3600, 10)] == [1]

    # A form body naming our reference, the token in the query (for systems without headers).
    response = client.post(
        f"/connectors/acme-odoo/hook?token={TOKEN}",
        content=b"reference=vmi-2&event=update",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json() == {"records": 1}
    assert [r.order_id for r in context.connectors.to_check("acme-odoo", 3600, 10)] == [1, 2]
    # A body naming nothing we know: every record of the link is read back.
    response = client.post(
        "/connectors/acme-odoo/hook",
        content=b"\x00\xff garbage",
        headers={"X-VMI-Hook-Token": TOKEN},
    )
    assert response.json() == {"records": 2}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/connectors/acme-odoo/hook", {}),
        ("/connectors/acme-odoo/hook", {"X-VMI-Hook-Token": TOKEN[:-1]}),
        ("/connectors/acme-odoo/hook", {"X-VMI-Hook-Token": TOKEN + "x"}),
        ("/connectors/other/hook", {"X-VMI-Hook-Token": TOKEN}),  # no hook configured
    ],
)
def test_a_hook_without_the_links_token_is_refused_and_changes_nothing(
    client: TestClient,
    context: ApiContext,
    world: dict[str, dict[str, str]],
    path: str,
    headers: dict[str, str],
) -> None:
    response = client.post(path, json={"_id": 4711}, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid hook token"}
    assert context.connectors.to_check("acme-odoo", 3600, 10) == []  # nothing marked
    assert context.connectors.steps(order_id=1)[0].status is StepStatus.PENDING


@pytest.mark.parametrize("name", ["ACME", "a" * 41, "a..b", "-x"])
def test_a_link_name_that_cannot_be_one_is_422(
    client: TestClient, world: dict[str, dict[str, str]], name: str
) -> None:
    response = client.post(f"/connectors/{name}/hook", headers={"X-VMI-Hook-Token": TOKEN})
    assert response.status_code == 422


def test_candidates_are_reference_like_strings_only() -> None:
    body = (
        b'{"a": {"b": ["vmi-1", "S00042", 7, true, "has space", "x" ]}, "c": "' + b"y" * 80 + b'"}'
    )
    assert candidates(body) == ["vmi-1", "S00042", "7", "x"]
    assert candidates(b"") == []
    assert candidates(b'{"deep": {"a": {"b": {"c": "vmi-9"}}}}') == []  # deeper than three levels
    assert len(candidates(b"[" + b",".join(b'"r%d"' % i for i in range(500)) + b"]")) == 20
