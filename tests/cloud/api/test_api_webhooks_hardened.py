"""`/webhooks` hardened (issue 14): no URL that reaches inside (422), https for
suppliers and customers, the admins' allowlist, a cap per tenant (409), a
subscription per (role, tenant) pair, and URLs shown with credentials redacted.

Hosts are address literals and `localhost` (resolved from /etc/hosts), or
names under `.example`/`.invalid` that resolve nowhere: no network is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cloud.api import create_app
from cloud.api.context import ApiContext
from cloud.api.security import Role
from tests.cloud.api.conftest import api_settings_for, bearer, new_token

INSIDE = [
    ("https://127.0.0.1/h", "loopback"),
    ("https://localhost:8443/h", "loopback"),
    ("https://[::1]/h", "loopback"),
    ("https://10.0.0.8/h", "private"),
    ("https://192.168.0.10/h", "private"),
    ("https://[fd00::1]/h", "private"),
    ("https://169.254.169.254/latest/meta-data/", "cloud metadata service"),
    ("https://[fe80::1]/h", "link-local"),
    ("https://0.0.0.0/h", "unspecified"),
    ("https://224.0.0.1/h", "multicast"),
    ("https://[::ffff:127.0.0.1]/h", "loopback"),
]


@pytest.fixture
def tenants(client: TestClient, admin: dict[str, str]) -> None:
    """Supplier `dup` and customer `dup`: two tenants with one code; and supplier `fast`."""
    for path, code in (("/suppliers", "dup"), ("/customers", "dup"), ("/suppliers", "fast")):
        response = client.post(path, json={"code": code, "name": code}, headers=admin)
        assert response.status_code == 201, response.text


def key(context: ApiContext, role: Role, tenant: str) -> dict[str, str]:
    return bearer(new_token(context, role, tenant))


def problems(response: httpx.Response) -> str:
    return str(response.json()["detail"])


@pytest.mark.parametrize(("url", "reason"), INSIDE)
def test_urls_reaching_inside_are_refused(
    client: TestClient,
    context: ApiContext,
    admin: dict[str, str],
    tenants: None,
    url: str,
    reason: str,
) -> None:
    for headers in (key(context, Role.SUPPLIER, "fast"), admin):
        response = client.post("/webhooks", json={"url": url}, headers=headers)
        assert response.status_code == 422, response.text
        assert reason in problems(response)
    assert client.get("/webhooks", headers=admin).json()["count"] == 0


def test_suppliers_and_customers_use_https(
    client: TestClient, context: ApiContext, admin: dict[str, str], tenants: None
) -> None:
    own = key(context, Role.CUSTOMER, "dup")
    response = client.post("/webhooks", json={"url": "http://erp.example/h"}, headers=own)
    assert response.status_code == 422
    assert "https://" in problems(response)
    # A name that resolves nowhere yet is accepted over https: each delivery checks it.
    fine = client.post("/webhooks", json={"url": "https://erp.invalid/h"}, headers=own)
    assert fine.status_code == 201, fine.text
    # Admins too: http is for internal receivers on the allowlist, and there is none.
    response = client.post("/webhooks", json={"url": "http://erp.example/h"}, headers=admin)
    assert response.status_code == 422


@pytest.fixture
def allowlisting_client(sql_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, ApiContext]]:
    settings = api_settings_for(
        sql_url, tmp_path, webhook_allow_private=["127.0.0.0/8"], webhook_max_per_tenant=2
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, app.state.context


def test_the_allowlist_serves_admins_only(
    allowlisting_client: tuple[TestClient, ApiContext],
) -> None:
    client, context = allowlisting_client
    admin = bearer(new_token(context, Role.ADMIN))
    assert client.post("/suppliers", json={"code": "fast", "name": "F"}, headers=admin).is_success
    made = client.post("/webhooks", json={"url": "http://127.0.0.1:9/in"}, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["subscription"]["allow_private"] is True
    supplier = key(context, Role.SUPPLIER, "fast")
    for url in ("https://127.0.0.1:9/in", "http://127.0.0.1:9/in"):
        response = client.post("/webhooks", json={"url": url}, headers=supplier)
        assert response.status_code == 422, url
    # Outside the allowlist, admins are refused as well.
    refused = client.post("/webhooks", json={"url": "http://10.0.0.1/in"}, headers=admin)
    assert refused.status_code == 422
    assert "private" in problems(refused)


def test_a_tenant_has_a_capped_number_of_subscriptions(
    allowlisting_client: tuple[TestClient, ApiContext],
) -> None:
    client, context = allowlisting_client
    admin = bearer(new_token(context, Role.ADMIN))
    assert client.post("/suppliers", json={"code": "fast", "name": "F"}, headers=admin).is_success
    supplier = key(context, Role.SUPPLIER, "fast")
    body = {"url": "https://erp.invalid/h"}
    ids = [client.post("/webhooks", json=body, headers=supplier).json() for _ in range(2)]
    refused = client.post("/webhooks", json=body, headers=supplier)
    assert refused.status_code == 409
    assert "supplier fast already has 2 active webhook subscriptions" in problems(refused)
    # An admin making one for the tenant counts against the same cap.
    for_it = {**body, "tenant": "fast"}
    assert client.post("/webhooks", json=for_it, headers=admin).status_code == 409
    first = ids[0]["subscription"]["id"]
    assert client.post(f"/webhooks/{first}/revoke", headers=supplier).status_code == 200
    assert client.post("/webhooks", json=body, headers=supplier).status_code == 201


def test_a_supplier_and_a_customer_with_one_code_see_only_their_own(
    client: TestClient, context: ApiContext, admin: dict[str, str], tenants: None
) -> None:
    as_supplier = key(context, Role.SUPPLIER, "dup")
    as_customer = key(context, Role.CUSTOMER, "dup")
    made = client.post("/webhooks", json={"url": "https://s.example/h"}, headers=as_supplier)
    assert made.status_code == 201, made.text
    sub = made.json()["subscription"]
    assert (sub["tenant"], sub["tenant_role"]) == ("dup", "supplier")
    sub_id = sub["id"]
    listed = client.get("/webhooks", headers=as_customer).json()
    assert listed["count"] == 0
    for method, path in (
        ("GET", f"/webhooks/{sub_id}"),
        ("POST", f"/webhooks/{sub_id}/revoke"),
        ("POST", f"/webhooks/{sub_id}/rotate-secret"),
        ("DELETE", f"/webhooks/{sub_id}"),
    ):
        assert client.request(method, path, headers=as_customer).status_code == 404, path
    assert client.get("/webhooks", headers=as_supplier).json()["count"] == 1
    # Not for the other role of one's own code either.
    other = {"url": "https://s.example/h", "tenant": "dup", "tenant_role": "supplier"}
    assert client.post("/webhooks", json=other, headers=as_customer).status_code == 403
    # Admins name the role when the code is both; the catalog's when it is one.
    ambiguous = client.post("/webhooks", json={**other, "tenant_role": None}, headers=admin)
    assert ambiguous.status_code == 422
    assert "both a supplier and a customer" in problems(ambiguous)
    inferred = {"url": "https://f.example/h", "tenant": "fast"}
    made = client.post("/webhooks", json=inferred, headers=admin).json()["subscription"]
    assert made["tenant_role"] == "supplier"


def test_urls_are_shown_with_credentials_redacted(
    client: TestClient, context: ApiContext, tenants: None
) -> None:
    own = key(context, Role.SUPPLIER, "fast")
    url = "https://hook-user:pw-in-url@erp.example/vmi?token=tok-in-query&site=a"
    created = client.post("/webhooks", json={"url": url}, headers=own)
    assert created.status_code == 201, created.text
    shown = "https://***@erp.example/vmi?token=***&site=a"
    assert created.json()["subscription"]["url"] == shown
    sub_id = created.json()["subscription"]["id"]
    answers = [
        client.get("/webhooks", headers=own),
        client.get(f"/webhooks/{sub_id}", headers=own),
        client.post(f"/webhooks/{sub_id}/rotate-secret", headers=own),
        client.post(f"/webhooks/{sub_id}/revoke", headers=own),
    ]
    for answer in answers:
        assert shown in answer.text
        for leak in ("pw-in-url", "hook-user", "tok-in-query"):
            assert leak not in answer.text
