"""Through the running cloud service (real Mosquitto, the four stand-ins on loopback): a
reading that crosses the reorder point becomes a record in ERPNext, Odoo, Zoho CRM and
Fxiaoke; a confirmation made in the API's process reaches all four; a change made in
each system moves our order; pending steps survive a restart of the service."""

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
from tests.cloud.connectors.samples import erpnext_table, fxiaoke_table, odoo_table, zoho_table
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn
from tests.cloud.connectors.standin_fxiaoke import FxiaokeStandIn
from tests.cloud.connectors.standin_odoo import OdooStandIn
from tests.cloud.connectors.standin_zoho import ZohoStandIn
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


def crossing(site: str, sku: str, at: datetime) -> bytes:
    batch = ReadingsBatch(
        site=site,
        device="gw",
        seq=1,
        sent_at=at,
        readings=[Reading(time=at, location="A", sku=sku, quantity=30)],
    )
    return encode(batch)


def test_the_service_creates_updates_and_reconciles_orders_in_all_four_systems(
    tmp_path: Path,
    mosquitto: MosquittoServer,
    broker: Broker,
    erpnext: ErpNextStandIn,
    odoo: OdooStandIn,
    zoho: ZohoStandIn,
    fx: FxiaokeStandIn,
    unique_id: str,
) -> None:
    site, now = f"{unique_id}-s", datetime.now(UTC)
    # No catalog here: each system is told the party every order goes to.
    systems = [
        {
            "name": "acme-erpnext",
            "connector": erpnext_table(erpnext, tmp_path) | {"party": "Acme Supplies Ltd"},
        },
        {"name": "acme-odoo", "connector": odoo_table(odoo, tmp_path, partner="ACME")},
        {"name": "acme-zoho", "connector": zoho_table(zoho, tmp_path, party="Acme Supplies Ltd")},
        {
            # The supplier's Fxiaoke approves sales orders itself (its approval flow):
            # our confirm is not pushed there.
            "name": "north-fxiaoke",
            "connector": fxiaoke_table(fx, tmp_path, party="North Plant Co., Ltd."),
            "push": ["create", "ship", "cancel"],
        },
    ]
    fx.approval_flow = True
    config = service_config(tmp_path, mosquitto, f"c-{unique_id}", systems)
    svc = CloudService(config)
    history = [
        LevelPoint(site, "gw", "A", sku, now - timedelta(hours=48 - h), 100 - h)
        for sku in ("BOLT-M8", "NUT-M8")
        for h in range(48)
    ]
    svc.store.write_levels(history)
    erpnext.items.add("NUT-M8")
    odoo.add_product("NUT-M8")
    zoho.add("Products", Product_Code="NUT-M8", Product_Name="Nut M8")
    fx.add_product("NUT-M8", "M8 螺母")
    api_side = OrderBook(config.orders.url)  # what the API process does, in its own book
    svc.start()
    try:
        assert svc.collector.wait_connected(10)
        broker.publish(readings_topic(site, "gw"), crossing(site, "BOLT-M8", now))
        broker.publish(readings_topic(site, "gw"), crossing(site, "NUT-M8", now))
        wait_for(lambda: len(erpnext.documents(PO)) == 2, 20, "the ERPNext purchase orders")
        wait_for(lambda: len(odoo.orders("purchase.order")) == 2, 20, "the Odoo orders")
        wait_for(lambda: len(zoho.documents("Purchase_Orders")) == 2, 20, "the Zoho orders")
        wait_for(lambda: len(fx.orders()) == 2, 20, "the Fxiaoke sales orders")
        bolt, nut = sorted(svc.orders.orders(site), key=lambda o: o.sku)
        references = {f"vmi-{bolt.id}", f"vmi-{nut.id}"}
        assert {d["custom_vmi_reference"] for d in erpnext.documents(PO)} == references
        assert {o["partner_ref"] for o in odoo.orders("purchase.order")} == references
        assert {d["Subject"] for d in zoho.documents("Purchase_Orders")} == references
        assert {o["remark"] for o in fx.orders()} == references

        # Confirmed through the API's process: seen by the service within idle_s.
        api_side.confirm(bolt.id, datetime.now(UTC))
        api_side.confirm(nut.id, datetime.now(UTC))

        def confirmed_everywhere() -> bool:
            return (
                all(d["docstatus"] == 1 for d in erpnext.documents(PO))
                and all(o["state"] == "purchase" for o in odoo.orders("purchase.order"))
                and all(d["Status"] == "Approved" for d in zoho.documents("Purchase_Orders"))
                and {s.status for s in svc.connectors.ledger.steps(limit=100)} == {StepStatus.DONE}
            )

        wait_for(confirmed_everywhere, 20, "the confirmations in all four systems")

        # Changes made there come back (read every poll_s = 1 s).
        [bolt_doc] = [
            d for d in erpnext.documents(PO) if d["custom_vmi_reference"] == f"vmi-{bolt.id}"
        ]
        erpnext.set_fields(PO, bolt_doc["name"], per_received=100, status="To Bill")
        wait_for(lambda: svc.orders.get(bolt.id).status == OrderStatus.RECEIVED, 20, "receipt")
        [nut_zoho] = [
            d for d in zoho.documents("Purchase_Orders") if d["Subject"] == f"vmi-{nut.id}"
        ]
        zoho.set_fields("Purchase_Orders", nut_zoho["id"], Status="Cancelled")
        wait_for(lambda: svc.orders.get(nut.id).status == OrderStatus.CANCELLED, 20, "the cancel")
        # ... and our cancellation goes to the other three (Zoho's is already there).
        wait_for(
            lambda: (
                {o["life_status"] for o in fx.orders() if o["remark"] == f"vmi-{nut.id}"}
                == {"invalid"}
            ),
            20,
            "the Fxiaoke void",
        )

        def cancelled_everywhere() -> bool:
            steps = svc.connectors.ledger.steps(order_id=nut.id, limit=100)
            cancels = [s for s in steps if s.action == "cancel"]
            return len(cancels) == 4 and all(s.status is StepStatus.DONE for s in cancels)

        # Each link's worker sends on its own: wait for all four, not the first.
        wait_for(cancelled_everywhere, 20, "the cancels in all four systems")
    finally:
        svc.stop()
        api_side.close()
    ledger = svc.connectors.ledger
    steps = {(s.link, s.action): s.status for s in ledger.steps(order_id=nut.id)}
    assert steps == {
        (link, action): StepStatus.DONE
        for link in ("acme-erpnext", "acme-odoo", "acme-zoho", "north-fxiaoke")
        for action in ("create", "confirm", "cancel")
        if (link, action) != ("north-fxiaoke", "confirm")
    }
    [nut_erp] = [d for d in erpnext.documents(PO) if d["custom_vmi_reference"] == f"vmi-{nut.id}"]
    assert nut_erp["docstatus"] == 2
    remotes = {r.link: r.remote_id for r in ledger.remotes([bolt.id])}
    assert remotes["acme-erpnext"] == bolt_doc["name"]
    assert set(remotes) == {"acme-erpnext", "acme-odoo", "acme-zoho", "north-fxiaoke"}


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
