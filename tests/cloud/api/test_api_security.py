"""Secrets: API key tokens and webhook secrets are shown once, never listed or
read back, never logged; tokens are stored as digests. Request size limit."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cloud.api.context import ApiContext
from cloud.api.security import ApiKey, Role, token_digest
from tests.cloud.api.conftest import bearer, new_token


@pytest.fixture
def supplier(client: TestClient, admin: dict[str, str]) -> str:
    assert client.post("/suppliers", json={"code": "fast", "name": "F"}, headers=admin).is_success
    return "fast"


def test_an_api_key_token_is_shown_once_and_stored_as_a_digest(
    client: TestClient,
    context: ApiContext,
    admin: dict[str, str],
    supplier: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.post(
        "/api-keys", json={"name": "erp", "role": "supplier", "tenant": supplier}, headers=admin
    )
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    key_id = response.json()["key"]["id"]
    assert token.startswith("vmi_")
    assert client.get("/me", headers=bearer(token)).json()["tenant"] == supplier
    for path in ("/api-keys", f"/api-keys/{key_id}"):
        assert token not in client.get(path, headers=admin).text
    with context.session() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.id == key_id)).one()
    assert row.digest == token_digest(token)
    assert token[:12] == row.prefix
    assert token not in repr(row.__dict__)
    assert token not in caplog.text
    assert token[12:] not in caplog.text
    assert "created" in caplog.text  # the creation is logged, by prefix


def test_a_webhook_secret_is_shown_once_and_never_logged(
    client: TestClient,
    context: ApiContext,
    admin: dict[str, str],
    supplier: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    own = bearer(new_token(context, Role.SUPPLIER, supplier))
    secret = "receiver-chosen-secret-0123456789abcdef"
    body = {"url": "https://erp.example/hooks?token=abc", "secret": secret, "kinds": ["reorder"]}
    response = client.post("/webhooks", json=body, headers=own)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"] == secret
    assert created["subscription"]["tenant"] == supplier
    sub_id = created["subscription"]["id"]
    for headers in (own, admin):
        for path in ("/webhooks", f"/webhooks/{sub_id}"):
            assert secret not in client.get(path, headers=headers).text
    revoked = client.post(f"/webhooks/{sub_id}/revoke", headers=own)
    assert secret not in revoked.text
    rotated = client.post(f"/webhooks/{sub_id}/rotate-secret", headers=own).json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != secret
    assert rotated["secret"] not in client.get(f"/webhooks/{sub_id}", headers=own).text
    made = client.post("/webhooks", json={"url": "https://x.example/h"}, headers=admin).json()
    for shown in (secret, rotated["secret"], made["secret"], "token=abc"):
        assert shown not in caplog.text
    assert "webhook subscription" in caplog.text


def test_a_supplier_subscribes_only_for_itself(
    client: TestClient, context: ApiContext, admin: dict[str, str], supplier: str
) -> None:
    own = bearer(new_token(context, Role.SUPPLIER, supplier))
    other = {"url": "https://x.example/h", "tenant": "someone-else"}
    assert client.post("/webhooks", json=other, headers=own).status_code == 403
    foreign_site = {"url": "https://x.example/h", "sites": ["nowhere"]}
    assert client.post("/webhooks", json=foreign_site, headers=own).status_code == 422
    assert (
        client.post("/webhooks", json={"url": "ftp://x.example/h"}, headers=own).status_code == 422
    )


def test_bodies_over_the_limit_get_413(
    client: TestClient, context: ApiContext, admin: dict[str, str]
) -> None:
    limit = context.settings.max_request_bytes
    big = b'{"code": "X", "name": "' + b"x" * limit + b'"}'
    response = client.post(
        "/suppliers", content=big, headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]

    def chunks() -> object:  # no Content-Length: cut off while it streams in
        yield b'{"code": "X", "name": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(
        "/suppliers", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert client.get("/suppliers/X", headers=admin).status_code == 404
    small = client.post("/suppliers", json={"code": "X", "name": "x" * 100}, headers=admin)
    assert small.status_code == 201
