"""The shared faces: OrderSpec from our orders, the Connector protocol, the HTTP channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import httpx
import pytest

from cloud.connectors import Connector, OrderSpec, Unavailable, reference_for
from cloud.connectors.erpnext import ErpNextConnector
from cloud.connectors.http import HttpChannel, retry_after_s
from cloud.connectors.odoo import OdooConnector
from cloud.orders import Order


def test_an_order_becomes_a_spec_with_our_reference_and_its_arrival() -> None:
    created = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
    order = Order(
        id=42,
        site="north",
        sku="BOLT-M8",
        supplier="ACME",
        quantity=76,
        created_at=created,
        expected_arrival=datetime(2026, 5, 6, 9, 30, tzinfo=UTC),
    )
    assert OrderSpec.from_order(order, customer="NORTH") == OrderSpec(
        reference="vmi-42",
        site="north",
        sku="BOLT-M8",
        quantity=76,
        planned_date=date(2026, 5, 6),
        supplier="ACME",
        customer="NORTH",
    )
    order.expected_arrival = None
    assert OrderSpec.from_order(order, prefix="acme-vmi").planned_date == date(2026, 5, 4)
    assert reference_for(7, "acme-vmi") == "acme-vmi-7"


def test_both_connectors_are_connectors(
    make_odoo: Callable[..., OdooConnector], make_erpnext: Callable[..., ErpNextConnector]
) -> None:
    assert isinstance(make_odoo(), Connector)
    assert isinstance(make_erpnext(), Connector)
    assert OdooConnector.kind == "odoo"
    assert ErpNextConnector.kind == "erpnext"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("Wed, 21 Oct 2026 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # in the past: no wait
        ("soon", None),
        (None, None),
        ("", None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(header: str | None, expected: float | None) -> None:
    now = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)
    assert retry_after_s(header, now) == expected


def test_an_answer_too_large_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 5000)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    channel = HttpChannel(
        "odoo", "http://erp.test", timeout_s=5, client=client, max_answer_bytes=4096
    )
    with pytest.raises(Unavailable, match="larger than 4096 bytes"):
        channel.send("POST", "/jsonrpc", json={})
    channel.close()
    assert not client.is_closed  # an injected client belongs to its owner
    client.close()
