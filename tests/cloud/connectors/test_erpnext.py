"""The ERPNext connector against the ERPNext stand-in."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

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
)
from cloud.connectors.erpnext import ErpNextConnector
from cloud.orders import OrderStatus
from tests.cloud.connectors.samples import PLANNED, spec
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn

MakeErp = Callable[..., ErpNextConnector]
PO, SO, MR = "Purchase Order", "Sales Order", "Material Request"
YEAR = date.today().year


def test_create_makes_a_purchase_order_with_our_reference(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    ref = make_erpnext().create_order(spec())

    name = f"PUR-ORD-{YEAR}-00001"
    assert ref == RemoteRef(
        system="erpnext", record_type=PO, id=name, name=name, reference="vmi-42", existed=False
    )
    [doc] = erpnext.documents(PO)
    assert (doc["docstatus"], doc["status"]) == (0, "Draft")
    assert (doc["supplier"], doc["custom_vmi_reference"]) == ("Acme Supplies Ltd", "vmi-42")
    assert doc["schedule_date"] == PLANNED.isoformat()
    assert doc["items"] == [
        {"item_code": "BOLT-M8", "qty": 24, "schedule_date": PLANNED.isoformat(), "idx": 1}
    ]
    # Every request carried the token header.
    assert {r.headers["authorization"] for r in erpnext.requests} == {
        f"token {erpnext.api_key}:{erpnext.api_secret}"
    }


def test_a_sales_order_puts_our_reference_in_po_no(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    ref = make_erpnext(doctype=SO, reference_field=None).create_order(spec())

    [doc] = erpnext.documents(SO)
    assert ref.id == f"SAL-ORD-{YEAR}-00001"
    assert (doc["customer"], doc["po_no"], doc["delivery_date"]) == (
        "NORTH",
        "vmi-42",
        PLANNED.isoformat(),
    )
    assert doc["items"][0]["delivery_date"] == PLANNED.isoformat()


def test_a_material_request_names_the_warehouse_and_no_party(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    make_erpnext(doctype=MR, warehouse="Stores - VT", company="VMI Test Co").create_order(spec())

    [doc] = erpnext.documents(MR)
    assert doc["material_request_type"] == "Purchase"
    assert doc["company"] == "VMI Test Co"
    assert doc["items"][0]["warehouse"] == "Stores - VT"
    assert "supplier" not in doc


def test_creating_again_returns_the_first_document(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    connector = make_erpnext()
    first = connector.create_order(spec())
    again = connector.create_order(spec())

    assert (again.id, again.existed) == (first.id, True)
    assert len(erpnext.documents(PO)) == 1
    assert erpnext.count("POST", "/api/resource/") == 1


def test_a_create_whose_answer_was_lost_is_not_made_twice(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    connector = make_erpnext()
    erpnext.lose_next("create")

    with pytest.raises(Unavailable, match="may have been carried out"):
        connector.create_order(spec())
    assert len(erpnext.documents(PO)) == 1

    ref = connector.create_order(spec())
    [doc] = erpnext.documents(PO)
    assert (ref.id, ref.existed) == (doc["name"], True)
    assert erpnext.count("POST", "/api/resource/") == 1


def test_confirm_submits_and_cancel_cancels_once_each(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    connector = make_erpnext()
    ref = connector.create_order(spec())

    confirmed = connector.update_order(ref, OrderChange.CONFIRM)
    assert (confirmed.status, confirmed.remote_state) == (
        OrderStatus.CONFIRMED,
        "To Receive and Bill",
    )
    connector.update_order(ref, OrderChange.CONFIRM)
    assert erpnext.count("PUT", "/api/resource/") == 1

    cancelled = connector.update_order(ref, OrderChange.CANCEL)
    assert (cancelled.status, cancelled.remote_state) == (OrderStatus.CANCELLED, "Cancelled")
    connector.update_order(ref, OrderChange.CANCEL)
    assert erpnext.count("POST", "/api/method/frappe.client.cancel") == 1
    [cancel] = [r for r in erpnext.requests if r.path == "/api/method/frappe.client.cancel"]
    assert json.loads(cancel.body) == {"doctype": PO, "name": ref.id}
    with pytest.raises(Rejected, match="cancelled"):
        connector.update_order(ref, OrderChange.CONFIRM)


def test_a_lost_submit_answer_is_not_submitted_twice(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    connector = make_erpnext()
    ref = connector.create_order(spec())
    erpnext.lose_next("update")

    with pytest.raises(Unavailable):
        connector.update_order(ref, OrderChange.CONFIRM)
    assert connector.update_order(ref, OrderChange.CONFIRM).status is OrderStatus.CONFIRMED
    assert erpnext.count("PUT", "/api/resource/") == 1


def test_cancelling_a_draft_deletes_it(erpnext: ErpNextStandIn, make_erpnext: MakeErp) -> None:
    """Frappe cannot cancel a draft (0 -> 2); a draft is deleted instead."""
    connector = make_erpnext()
    ref = connector.create_order(spec())

    status = connector.update_order(ref, OrderChange.CANCEL)
    assert (status.status, status.remote_state) == (OrderStatus.CANCELLED, "Deleted")
    assert erpnext.documents(PO) == []
    # Sent again (its answer lost): nothing left to cancel, and no error.
    assert connector.update_order(ref, OrderChange.CANCEL).status is OrderStatus.CANCELLED
    with pytest.raises(RemoteNotFound, match="not found"):
        connector.fetch_status(ref)


def test_fetch_status_follows_receipts_and_deliveries(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    purchase = make_erpnext()
    ref = purchase.create_order(spec())
    assert purchase.fetch_status(ref).status is OrderStatus.PROPOSED
    purchase.update_order(ref, OrderChange.CONFIRM)
    erpnext.set_fields(PO, ref.id, per_received=100.0, status="To Bill")
    received = purchase.fetch_status(ref)
    assert (received.status, received.remote_state) == (OrderStatus.RECEIVED, "To Bill")

    sale = make_erpnext(doctype=SO, reference_field=None)
    sale_ref = sale.create_order(spec())
    sale.update_order(sale_ref, OrderChange.CONFIRM)
    erpnext.set_fields(SO, sale_ref.id, per_delivered=40.0, status="To Deliver and Bill")
    assert sale.fetch_status(sale_ref).status is OrderStatus.CONFIRMED
    erpnext.set_fields(SO, sale_ref.id, per_delivered=100.0, status="To Bill")
    assert sale.fetch_status(sale_ref).status is OrderStatus.SHIPPED


def test_ship_is_not_an_order_step_in_erpnext(make_erpnext: MakeErp) -> None:
    connector = make_erpnext()
    with pytest.raises(UnsupportedChange, match="Delivery Note"):
        connector.update_order(connector.create_order(spec()), OrderChange.SHIP)


def test_a_date_erpnext_refuses_is_rejected_with_its_message(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    with pytest.raises(Rejected, match="Required By cannot be before Purchase Order Date") as err:
        make_erpnext().create_order(spec(planned_date=date.today() - timedelta(days=3)))
    assert (err.value.status_code, err.value.remote_type) == (417, "ValidationError")
    assert not err.value.retryable
    assert erpnext.documents(PO) == []


def test_an_unknown_supplier_is_rejected_with_erpnexts_message(make_erpnext: MakeErp) -> None:
    with pytest.raises(Rejected, match="Could not find Supplier: NOBODY") as err:
        make_erpnext().create_order(spec(supplier="NOBODY"))
    assert err.value.remote_type == "LinkValidationError"


def test_a_reference_field_the_doctype_lacks_is_rejected_before_creating(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    with pytest.raises(Rejected, match="Field not permitted in query: custom_nope") as err:
        make_erpnext(reference_field="custom_nope").create_order(spec())
    assert err.value.remote_type == "DataError"
    assert erpnext.documents(PO) == []


def test_a_reference_erpnext_dropped_is_reported(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp
) -> None:
    """A field the API user may not write is dropped silently; a retry could not find it."""
    erpnext.read_only.add("custom_vmi_reference")

    with pytest.raises(Rejected, match="created without custom_vmi_reference"):
        make_erpnext().create_order(spec())


def test_a_wrong_secret_is_auth_failed(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp, tmp_path: Path
) -> None:
    (tmp_path / "wrong.secret").write_text("not-the-secret")
    connector = make_erpnext(api_secret_file=str(tmp_path / "wrong.secret"))

    with pytest.raises(AuthFailed, match="Invalid API key or secret") as err:
        connector.create_order(spec())
    assert (err.value.status_code, err.value.remote_type) == (401, "AuthenticationError")
    assert err.value.retryable
    assert "not-the-secret" not in str(err.value)


def test_no_permission_is_auth_failed(erpnext: ErpNextStandIn, make_erpnext: MakeErp) -> None:
    erpnext.forbidden.add(PO)

    with pytest.raises(AuthFailed, match="does not have doctype access") as err:
        make_erpnext().create_order(spec())
    assert (err.value.status_code, err.value.remote_type) == (403, "PermissionError")


@pytest.mark.parametrize(("header", "expected"), [("12", 12.0), (None, None)])
def test_429_is_rate_limited_with_the_retry_after(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp, header: str | None, expected: float | None
) -> None:
    connector = make_erpnext()
    erpnext.rate_limit(1, retry_after=header)

    with pytest.raises(RateLimited) as err:
        connector.create_order(spec())
    assert err.value.retry_after_s == expected
    assert connector.create_order(spec()).existed is False


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_is_unavailable(erpnext: ErpNextStandIn, make_erpnext: MakeErp, status: int) -> None:
    erpnext.fail_next(1, status)

    with pytest.raises(Unavailable) as err:
        make_erpnext().create_order(spec())
    assert err.value.status_code == status
    assert err.value.retryable


def test_the_key_and_secret_are_in_no_log_error_or_repr(
    erpnext: ErpNextStandIn, make_erpnext: MakeErp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector = make_erpnext()
    ref = connector.create_order(spec())
    connector.update_order(ref, OrderChange.CONFIRM)
    erpnext.api_secret = "rotated"
    with pytest.raises(AuthFailed) as err:
        connector.fetch_status(ref)

    shown = [caplog.text, str(err.value), repr(err.value), repr(connector)]
    for secret in ("0a1b2c3d4e5f6a7", "erp-secret-9f8e7d6c5b4a"):
        assert all(secret not in text for text in shown)
    assert "created Purchase Order" in caplog.text
