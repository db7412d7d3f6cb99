"""The Odoo connector against the Odoo stand-in, over JSON-RPC and XML-RPC alike."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloud.connectors import (
    AuthFailed,
    OrderChange,
    RateLimited,
    Rejected,
    RemoteNotFound,
    RemoteRef,
    Unavailable,
    UnsupportedChange,
    connector_config,
    open_connector,
)
from cloud.connectors.odoo import OdooConnector
from cloud.orders import OrderStatus
from tests.cloud.connectors.samples import PLANNED, odoo_table, spec
from tests.cloud.connectors.standin_odoo import OdooStandIn

MakeOdoo = Callable[..., OdooConnector]


@pytest.fixture(params=["jsonrpc", "xmlrpc"])
def connect(request: pytest.FixtureRequest, make_odoo: MakeOdoo) -> MakeOdoo:
    """Connectors over each protocol in turn: every test here runs on both."""

    def make(**changes: object) -> OdooConnector:
        return make_odoo(protocol=request.param, **changes)

    return make


def test_create_makes_a_purchase_order_with_our_reference_and_one_line(
    odoo: OdooStandIn, connect: MakeOdoo
) -> None:
    ref = connect().create_order(spec())

    assert ref == RemoteRef(
        system="odoo",
        record_type="purchase.order",
        id=ref.id,
        name="P00001",
        reference="vmi-42",
        existed=False,
    )
    [order] = odoo.orders("purchase.order")
    acme = odoo.records["res.partner"][order["partner_id"]]
    bolt = next(iter(odoo.records["product.product"]))
    assert (order["id"], order["state"], order["partner_ref"]) == (int(ref.id), "draft", "vmi-42")
    assert acme["ref"] == "ACME"
    assert order["order_line"] == [
        {"product_id": bolt, "product_qty": 24, "date_planned": f"{PLANNED} 12:00:00"}
    ]


def test_a_sales_order_carries_the_customer_and_client_order_ref(
    odoo: OdooStandIn, connect: MakeOdoo
) -> None:
    ref = connect(model="sale.order").create_order(spec())

    [order] = odoo.orders("sale.order")
    assert (ref.record_type, ref.name) == ("sale.order", "S00001")
    assert odoo.records["res.partner"][order["partner_id"]]["ref"] == "NORTH"
    assert order["client_order_ref"] == "vmi-42"
    assert order["commitment_date"] == f"{PLANNED} 12:00:00"
    assert order["order_line"][0]["product_uom_qty"] == 24


def test_the_product_can_be_found_by_barcode(odoo: OdooStandIn, connect: MakeOdoo) -> None:
    connect(product_field="barcode").create_order(spec(sku="04012345678901"))

    [order] = odoo.orders("purchase.order")
    [product] = odoo.records["product.product"].values()
    assert order["order_line"][0]["product_id"] == product["id"]


def test_creating_again_returns_the_first_order(odoo: OdooStandIn, connect: MakeOdoo) -> None:
    connector = connect()
    first = connector.create_order(spec())
    again = connector.create_order(spec())

    assert again.id == first.id
    assert again.existed
    assert len(odoo.orders("purchase.order")) == 1
    assert odoo.count("create") == 1


def test_a_create_whose_answer_was_lost_is_not_made_twice(
    odoo: OdooStandIn, connect: MakeOdoo
) -> None:
    connector = connect()
    odoo.lose_next("create")

    with pytest.raises(Unavailable, match="may have been carried out") as lost:
        connector.create_order(spec())
    assert lost.value.retryable
    assert len(odoo.orders("purchase.order")) == 1  # it was made; only the answer is gone

    ref = connector.create_order(spec())  # the delivery's retry
    [order] = odoo.orders("purchase.order")
    assert (ref.id, ref.existed) == (str(order["id"]), True)
    assert odoo.count("create") == 1


def test_confirm_and_cancel_happen_once_however_often_they_are_sent(
    odoo: OdooStandIn, connect: MakeOdoo
) -> None:
    connector = connect()
    ref = connector.create_order(spec())

    confirmed = connector.update_order(ref, OrderChange.CONFIRM)
    assert (confirmed.status, confirmed.remote_state) == (OrderStatus.CONFIRMED, "purchase")
    assert connector.update_order(ref, OrderChange.CONFIRM).status is OrderStatus.CONFIRMED
    assert odoo.count("button_confirm") == 1

    cancelled = connector.update_order(ref, OrderChange.CANCEL)
    assert (cancelled.status, cancelled.remote_state) == (OrderStatus.CANCELLED, "cancel")
    connector.update_order(ref, OrderChange.CANCEL)
    assert odoo.count("button_cancel") == 1
    with pytest.raises(Rejected, match="cancelled"):
        connector.update_order(ref, OrderChange.CONFIRM)


def test_a_sales_order_is_confirmed_once(odoo: OdooStandIn, connect: MakeOdoo) -> None:
    """Odoo 17 refuses action_confirm on a confirmed order: the connector must not send it."""
    connector = connect(model="sale.order")
    ref = connector.create_order(spec())
    connector.update_order(ref, OrderChange.CONFIRM)
    status = connector.update_order(ref, OrderChange.CONFIRM)

    assert (status.status, status.remote_state) == (OrderStatus.CONFIRMED, "sale")
    assert odoo.count("action_confirm") == 1
    assert connector.update_order(ref, OrderChange.CANCEL).status is OrderStatus.CANCELLED


def test_fetch_status_follows_the_order_in_odoo(odoo: OdooStandIn, connect: MakeOdoo) -> None:
    purchase = connect()
    ref = purchase.create_order(spec())
    assert purchase.fetch_status(ref).status is OrderStatus.PROPOSED

    odoo.set_values("purchase.order", int(ref.id), state="purchase", receipt_status="partial")
    assert purchase.fetch_status(ref).status is OrderStatus.CONFIRMED
    odoo.set_values("purchase.order", int(ref.id), receipt_status="full")
    received = purchase.fetch_status(ref)
    assert (received.status, received.remote_state) == (
        OrderStatus.RECEIVED,
        "purchase/receipt_status=full",
    )
    assert connect(track_deliveries=False).fetch_status(ref).status is OrderStatus.CONFIRMED

    sale = connect(model="sale.order")
    sale_ref = sale.create_order(spec("vmi-43"))
    odoo.set_values("sale.order", int(sale_ref.id), state="sale", delivery_status="full")
    assert sale.fetch_status(sale_ref).status is OrderStatus.SHIPPED
    odoo.set_values("sale.order", int(sale_ref.id), state="cancel")
    assert sale.fetch_status(sale_ref).status is OrderStatus.CANCELLED


def test_a_record_that_is_gone_is_remote_not_found(connect: MakeOdoo) -> None:
    gone = RemoteRef(system="odoo", record_type="purchase.order", id="999999", reference="vmi-1")

    with pytest.raises(RemoteNotFound, match="does not exist") as err:
        connect().fetch_status(gone)
    assert not err.value.retryable


def test_ship_is_not_an_order_step_in_odoo(connect: MakeOdoo) -> None:
    connector = connect()
    ref = connector.create_order(spec())

    with pytest.raises(UnsupportedChange, match="picking"):
        connector.update_order(ref, OrderChange.SHIP)


def test_odoos_refusal_is_rejected_with_its_own_message(
    odoo: OdooStandIn, connect: MakeOdoo
) -> None:
    connector = connect()
    ref = connector.create_order(spec())
    odoo.set_values("purchase.order", int(ref.id), state="purchase", receipt_status="full")

    with pytest.raises(Rejected) as err:
        connector.update_order(ref, OrderChange.CANCEL)
    assert err.value.remote_type == "odoo.exceptions.UserError"
    assert "Unable to cancel purchase order P00001" in str(err.value)
    assert not err.value.retryable


def test_a_field_odoo_does_not_have_is_rejected_with_its_message(
    odoo: OdooStandIn, connect: MakeOdoo
) -> None:
    with pytest.raises(Rejected, match=r"Invalid field purchase\.order\.x_vmi_ref") as err:
        connect(reference_field="x_vmi_ref").create_order(spec())
    assert err.value.remote_type == "builtins.ValueError"
    assert odoo.orders("purchase.order") == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sku": "NOPE"}, "no product with default_code 'NOPE'"),
        ({"supplier": "NOBODY"}, "no partner with ref 'NOBODY'"),
        ({"supplier": None}, "names no supplier"),
    ],
)
def test_what_odoo_does_not_know_is_rejected_before_creating(
    odoo: OdooStandIn, connect: MakeOdoo, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(Rejected, match=message):
        connect().create_order(spec(**changes))
    assert odoo.count("create") == 0


def test_a_wrong_key_is_auth_failed(odoo: OdooStandIn, tmp_path: Path, connect: MakeOdoo) -> None:
    (tmp_path / "wrong.key").write_text("not-the-key")
    connector = connect(password_file=str(tmp_path / "wrong.key"))

    with pytest.raises(AuthFailed, match="login 'vmi-bot' on database 'vmi' refused") as err:
        connector.create_order(spec())
    assert err.value.retryable
    assert "not-the-key" not in str(err.value)


def test_a_key_revoked_after_sign_in_is_auth_failed_then_signs_in_again(
    odoo: OdooStandIn, connect: MakeOdoo
) -> None:
    connector = connect()
    ref = connector.create_order(spec())
    key = odoo.password
    odoo.password = "rotated"

    with pytest.raises(AuthFailed) as err:
        connector.fetch_status(ref)
    assert err.value.remote_type == "odoo.exceptions.AccessDenied"

    odoo.password = key
    assert connector.fetch_status(ref).status is OrderStatus.PROPOSED


def test_429_is_rate_limited_with_the_retry_after(odoo: OdooStandIn, connect: MakeOdoo) -> None:
    connector = connect()
    odoo.rate_limit(1, retry_after="7")

    with pytest.raises(RateLimited) as err:
        connector.create_order(spec())
    assert err.value.retry_after_s == 7.0
    assert err.value.retryable
    assert connector.create_order(spec()).existed is False  # nothing was made by the 429


def test_a_502_from_a_proxy_is_unavailable(odoo: OdooStandIn, connect: MakeOdoo) -> None:
    odoo.fail_next(1, 502)

    with pytest.raises(Unavailable) as err:
        connect().create_order(spec())
    assert err.value.status_code == 502


def test_a_server_that_is_not_there_is_unavailable(odoo: OdooStandIn, tmp_path: Path) -> None:
    table = odoo_table(odoo, tmp_path, url="http://127.0.0.1:9", timeout_s=2)
    connector = open_connector(connector_config(table))
    try:
        with pytest.raises(Unavailable, match="cannot connect"):
            connector.create_order(spec())
    finally:
        connector.close()


def test_a_url_that_is_not_odoo_is_rejected(odoo: OdooStandIn, connect: MakeOdoo) -> None:
    with pytest.raises(Rejected, match="not found: is this an Odoo server"):
        connect(url=odoo.url + "/web").create_order(spec())


def test_a_wrong_database_names_it(connect: MakeOdoo) -> None:
    with pytest.raises(Unavailable, match='database "nope" does not exist'):
        connect(database="nope").create_order(spec())


def test_the_key_is_in_no_log_error_or_repr(
    odoo: OdooStandIn, connect: MakeOdoo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector = connect()
    ref = connector.create_order(spec())
    connector.update_order(ref, OrderChange.CONFIRM)
    odoo.password = "rotated"
    with pytest.raises(AuthFailed) as err:
        connector.fetch_status(ref)

    key = "odoo-api-key-0123456789abcdef"
    shown = [caplog.text, str(err.value), repr(err.value), repr(connector)]
    assert all(key not in text for text in shown)
    assert "created purchase.order" in caplog.text  # the log does say what happened
