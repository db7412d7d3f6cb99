"""The live stream (server-sent events): current levels first, then newer levels
and new alerts, only what the key may see; bounded reads end by themselves, a
revoked key's stream ends at the next poll."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from cloud.api.context import ApiContext
from cloud.api.security import Role
from cloud.timeseries import LevelPoint
from cloud.timeseries.measurements import ALERT
from tests.cloud.api.api_world import build_world
from tests.cloud.api.conftest import bearer, new_token
from tests.cloud.api.sse import events


def test_levels_then_changes_and_alerts(
    client: TestClient, context: ApiContext, admin: dict[str, str]
) -> None:
    build_world(client, context, admin)
    supplier = bearer(new_token(context, Role.SUPPLIER, "sup-alpha"))
    seen: list[tuple[str, Any]] = []
    with client.stream(
        "GET", "/stream", params={"max_events": 3, "max_seconds": 5}, headers=supplier
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response.iter_lines())
        seen.append(next(stream))  # the current level of sup-alpha's one shelf
        now = datetime.now(UTC)
        # Another supplier's SKU at the same site, then its own: only the latter.
        context.store.write_levels(
            [
                LevelPoint("site-alpha", "dev-gamma", "loc-gamma-1", "sku-gamma", now, 1.0),
                LevelPoint("site-alpha", "dev-alpha", "loc-alpha-1", "sku-alpha", now, 4.0),
            ]
        )
        context.store.write_points(
            [
                ALERT.point(
                    tags={"site": "site-alpha", "sku": kind_sku, "kind": "stockout"},
                    fields={"message": f"{kind_sku} empty"},
                    time=now,
                )
                for kind_sku in ("sku-gamma", "sku-alpha")
            ]
        )
        seen.extend(stream)
    kinds = [name for name, _ in seen]
    assert sorted(kinds) == ["alert", "level", "level"]
    first, *later = seen
    assert first[1]["quantity"] == 9.0
    assert first[1]["sku"] == "sku-alpha"
    assert {(n, d["sku"]) for n, d in later} == {("level", "sku-alpha"), ("alert", "sku-alpha")}


def test_a_bounded_stream_ends_and_a_revoked_key_ends_it_early(
    client: TestClient, context: ApiContext, admin: dict[str, str]
) -> None:
    build_world(client, context, admin)
    started = time.monotonic()
    text = client.get("/stream", params={"max_seconds": 0.5}, headers=admin).text
    assert 0.4 < time.monotonic() - started < 3
    assert text.count("event: level") == 3  # alpha, gamma, beta

    token = new_token(context, Role.CUSTOMER, "cust-beta")
    key = context.keys.entries()[-1]
    started = time.monotonic()
    with client.stream(
        "GET", "/stream", params={"max_seconds": 5}, headers=bearer(token)
    ) as response:
        stream = events(response.iter_lines())
        name, level = next(stream)
        assert (name, level["site"]) == ("level", "site-beta")
        context.keys.revoke(key.id, datetime.now(UTC) - timedelta(seconds=1))
        assert list(stream) == []
    assert time.monotonic() - started < 3
    assert client.get("/stream", headers=bearer(token)).status_code == 401
