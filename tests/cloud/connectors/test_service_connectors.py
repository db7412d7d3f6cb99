"""Through the running cloud service (real Mosquitto, the ERPNext and Odoo stand-ins on
loopback): a reading that crosses the reorder point becomes a Purchase Order in ERPNext
and in Odoo; a confirmation made in the API's process reaches both; a receipt posted in
ERPNext moves our order; pending steps survive a restart of the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cloud.config import CloudConfig
from cloud.connectors.models import StepStatus
from cloud.orders import OrderBook, OrderStatus
from cloud.service import CloudService
from cloud.timeseries.base import LevelPoint
from tests.cloud.broker_client import Broker
from tests.cloud.connectors.samples import erpnext_table, odoo_table
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn
from tests.cloud.connectors.standin_odoo import OdooStandIn
from tests.servers import MosquittoServer
from tests.waiting import wait_for
from vmi.wire import Reading, ReadingsBatch, encode, readings_topic

PO = "Purchase Order"


def service_config(
    tmp_path: Path, mosquitto: MosquittoServer, client: str, systems: list[dict[str, Any]]
) -> CloudConfig:
    return CloudConfig.model_validate(
        {
            "mqtt": {"url": mosquitto.url, "client_id": client},
            "store": {"url": f"sqlite:///{tmp_path / 'levels.db'}"},
            "orders": {"url": f"sqlite:///{tmp_path / 'orders.db'}"},
            "replenishment": {"default": {"lead_time_days": 2, "min_history_days": 1}},
            "connectors": {
                "systems": systems,
                "allow_private": ["127.0.0.0/8"],  # the stand-ins are on loopback
                "idle_s": 0.2,
                "poll_s": 1,
            },
        }
    )


def test_the_service_creates_updates_and_reconciles_orders_in_erpnext_and_odoo(
    tmp_path: Path,
    mosquitto: MosquittoServer,
    broker: Broker,
    erpnext: ErpNextStandIn,
    odoo: OdooStandIn,
    unique_id: str,
) -> None:
    site, now = f"{unique_id}-s", datetime.now(UTC)
    erp = erpnext_table(erpnext, tmp_path) | {"party": "Acme Supplies Ltd"}
    systems = [
        {"name": "acme-erpnext", "connector": erp},
        {"name": "acme-odoo", "connector": odoo_table(odoo, tmp_path, partner="ACME")},
    ]
    config = service_config(tmp_path, mosquitto, f"c-{unique_id}", systems)
    svc = CloudService(config)
    svc.store.write_levels(
        [
            LevelPoint(site, "gw", "A", "BOLT-M8", now - timedelta(hours=48 - h), 100 - h)
            for h in range(48)
        ]
    )
    api_side = OrderBook(config.orders.url)  # what the API process does, in its own book
    svc.start()
    try:
        assert svc.collector.wait_connected(10)
        crossing = ReadingsBatch(
            site=site,
            device="gw",
            seq=1,
            sent_at=now,
            readings=[Reading(time=now, location="A", sku="BOLT-M8", quantity=30)],
        )
        broker.publish(readings_topic(site, "gw"), encode(crossing))
        wait_for(lambda: len(erpnext.documents(PO)) == 1, 20, "the ERPNext purchase order")
        wait_for(lambda: len(odoo.orders("purchase.order")) == 1, 20, "the Odoo purchase order")
        (order,) = svc.orders.orders(site)
        [doc] = erpnext.documents(PO)
        [odoo_order] = odoo.orders("purchase.order")
        assert doc["custom_vmi_reference"] == odoo_order["partner_ref"] == f"vmi-{order.id}"
        assert (
            doc["items"][0]["qty"] == odoo_order["order_line"][0]["product_qty"] == order.quantity
        )

        api_side.confirm(order.id, datetime.now(UTC))  # seen by the service within idle_s
        wait_for(lambda: erpnext.documents(PO)[0]["docstatus"] == 1, 20, "the ERPNext submit")
        wait_for(
            lambda: odoo.orders("purchase.order")[0]["state"] == "purchase", 20, "the Odoo confirm"
        )

        erpnext.set_fields(PO, doc["name"], per_received=100, status="To Bill")
        wait_for(lambda: svc.orders.get(order.id).status == OrderStatus.RECEIVED, 20, "our receipt")
    finally:
        svc.stop()
        api_side.close()
    ledger = svc.connectors.ledger
    assert {(s.link, s.action, s.status) for s in ledger.steps(order_id=order.id)} == {
        ("acme-erpnext", "create", StepStatus.DONE),
        ("acme-erpnext", "confirm", StepStatus.DONE),
        ("acme-odoo", "create", StepStatus.DONE),
        ("acme-odoo", "confirm", StepStatus.DONE),
    }
    assert {r.link: r.remote_id for r in ledger.remotes([order.id])} == {
        "acme-erpnext": doc["name"],
        "acme-odoo": str(odoo_order["id"]),
    }


def test_steps_pending_when_the_service_stops_are_sent_after_its_restart(
    tmp_path: Path, mosquitto: MosquittoServer, erpnext: ErpNextStandIn, unique_id: str
) -> None:
    systems = [{"name": "erp", "connector": erpnext_table(erpnext, tmp_path)}]
    config = service_config(tmp_path, mosquitto, f"c-{unique_id}", systems)
    book = OrderBook(config.orders.url)
    order = book.create(
        site="north",
        sku="BOLT-M8",
        quantity=24,
        reason="test",
        on_hand=3,
        rate_per_day=2,
        at=datetime.now(UTC),
        supplier="ACME",
    )
    assert order is not None
    erpnext.fail_next(1000, 503)  # ERPNext is down while the first service runs

    svc = CloudService(config)
    svc.start()
    try:
        wait_for(lambda: svc.connectors.stats("erp").retries >= 1, 20, "a failed attempt")
    finally:
        svc.stop()
    [step] = svc.connectors.ledger.steps(order_id=order.id)
    assert step.status is StepStatus.PENDING
    assert "Unavailable" in (step.last_error or "")

    erpnext.fail_next(0, 503)  # back up
    svc = CloudService(config)
    assert svc.connectors.ledger.retry() == 1  # `vmi connector retry`: now, not at backoff
    svc.start()
    try:
        wait_for(lambda: len(erpnext.documents(PO)) == 1, 20, "the purchase order")
    finally:
        svc.stop()
        book.close()
    [doc] = erpnext.documents(PO)
    assert doc["custom_vmi_reference"] == f"vmi-{order.id}"
