"""The connector sync against the ERPNext and Odoo stand-ins, round by round: orders become
remote records once, our changes follow, theirs come back, failures are retried or kept,
and nothing is sent where the address guard forbids."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cloud.connectors import Connector
from cloud.connectors.metrics import connector_metrics
from cloud.connectors.models import StepOutcome, StepStatus
from cloud.connectors.settings import ConnectorsConfig
from cloud.connectors.sync import ConnectorSync
from cloud.notify.retry import RetryPolicy
from cloud.orders import Order, OrderBook, OrderStatus
from tests.cloud.connectors.samples import erpnext_table, odoo_table
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn
from tests.cloud.connectors.standin_odoo import OdooStandIn

PO = "Purchase Order"
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
LOOPBACK = ["127.0.0.1"]
FAST = RetryPolicy(max_attempts=5, base_delay_s=0.001, max_delay_s=0.001, jitter=0)


class Harness:
    """An order book and a sync with one or more links, run round by round."""

    def __init__(self, url: str, systems: list[dict[str, Any]], **config: Any) -> None:
        self.url = url
        self.book = OrderBook(url)
        self.config = ConnectorsConfig.model_validate(
            {"systems": systems, "allow_private": LOOPBACK} | config
        )
        self.sync = ConnectorSync(self.config, orders=self.book, url=url)
        self.connectors: dict[str, Connector] = {}

    def round(self, name: str | None = None) -> None:
        name = name or self.config.systems[0].name
        if name not in self.connectors:
            self.connectors[name] = self.sync.open_link(name)
        self.sync.run_once(name, self.connectors[name])

    def order(self, sku: str = "BOLT-M8", supplier: str = "ACME", site: str = "north") -> Order:
        made = self.book.create(
            site=site,
            sku=sku,
            quantity=24,
            reason="test",
            on_hand=3,
            rate_per_day=2,
            at=NOW,
            supplier=supplier,
        )
        assert made is not None
        return made

    def steps(self, order: Order, name: str = "erp") -> dict[str, StepStatus]:
        return {s.action: s.status for s in self.sync.ledger.steps(link=name, order_id=order.id)}

    def due_now(self) -> None:
        """Make every pending step due now (`vmi connector retry`)."""
        self.sync.ledger.retry()

    def close(self) -> None:
        for connector in self.connectors.values():
            connector.close()
        self.book.close()


@pytest.fixture
def make(sqlite_url: str) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def harness(*systems: dict[str, Any], url: str = sqlite_url, **config: Any) -> Harness:
        h = Harness(url, list(systems), **config)
        made.append(h)
        return h

    yield harness
    for h in made:
        h.close()


def erp_link(server: ErpNextStandIn, tmp_path: Path, **changes: Any) -> dict[str, Any]:
    return {"name": "erp", "connector": erpnext_table(server, tmp_path)} | changes


def odoo_link(server: OdooStandIn, tmp_path: Path, **changes: Any) -> dict[str, Any]:
    return {"name": "odoo", "connector": odoo_table(server, tmp_path)} | changes


def test_a_new_order_becomes_one_remote_record_stored_on_the_order(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness], sql_url: str
) -> None:
    h = make(erp_link(erpnext, tmp_path), url=sql_url)
    order = h.order()

    h.round()
    h.round()  # nothing more to do

    [doc] = erpnext.documents(PO)
    assert doc["custom_vmi_reference"] == f"vmi-{order.id}"
    assert doc["supplier"] == "Acme Supplies Ltd"
    assert doc["items"][0]["qty"] == 24
    remote = h.sync.ledger.remote(order.id, "erp")
    assert remote is not None
    assert (remote.system, remote.record_type, remote.remote_id) == ("erpnext", PO, doc["name"])
    assert remote.remote_status is OrderStatus.PROPOSED  # read back in the same round
    [step] = h.sync.ledger.steps(order_id=order.id)
    assert (step.action, step.status, step.attempts) == ("create", StepStatus.DONE, 1)
    assert [a.outcome for a in h.sync.ledger.attempts(step.id)] == [StepOutcome.DONE]
    assert erpnext.count("POST", "/api/resource/") == 1
    metrics = connector_metrics(h.sync)
    assert 'vmi_connector_done_total{link="erp"} 1' in metrics
    assert 'vmi_connector_checked_total{link="erp"} 1' in metrics
    assert 'vmi_connector_failed_total{link="erp"} 0' in metrics


def test_confirm_and_cancel_made_here_reach_the_remote_record_once(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    order = h.order()
    h.round()

    h.book.confirm(order.id, NOW)
    h.round()
    h.round()
    [doc] = erpnext.documents(PO)
    assert doc["docstatus"] == 1
    assert erpnext.count("PUT", "/api/resource/") == 1

    h.book.cancel(order.id, NOW, "not needed")
    h.round()
    h.round()
    [doc] = erpnext.documents(PO)
    assert doc["docstatus"] == 2
    assert erpnext.count("POST", "/api/method/frappe.client.cancel") == 1
    assert h.steps(order) == {
        "create": StepStatus.DONE,
        "confirm": StepStatus.DONE,
        "cancel": StepStatus.DONE,
    }


def test_ship_is_recorded_as_unsupported_where_the_system_has_no_such_step(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    order = h.order()
    h.book.confirm(order.id, NOW)
    h.book.ship(order.id, NOW, NOW)

    h.round()

    assert h.steps(order) == {
        "create": StepStatus.DONE,
        "confirm": StepStatus.DONE,
        "ship": StepStatus.UNSUPPORTED,
    }
    [ship] = h.sync.ledger.steps(order_id=order.id, status=StepStatus.UNSUPPORTED)
    assert "Delivery Note" in (ship.last_error or "")


def test_a_create_whose_answer_was_lost_is_retried_without_a_second_record(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    h.sync.retry = FAST
    order = h.order()
    erpnext.lose_next("create")

    h.round()  # created there, the answer lost: due again at once (FAST)
    h.round()

    [doc] = erpnext.documents(PO)
    [step] = h.sync.ledger.steps(order_id=order.id)
    assert (step.status, step.attempts) == (StepStatus.DONE, 2)
    first, second = h.sync.ledger.attempts(step.id)
    assert first.outcome is StepOutcome.RETRY
    assert "Unavailable" in (first.error or "")
    assert second.outcome is StepOutcome.DONE
    remote = h.sync.ledger.remote(order.id, "erp")
    assert remote is not None
    assert remote.remote_id == doc["name"]
    assert erpnext.count("POST", "/api/resource/") == 1


def test_429_waits_as_long_as_retry_after_asks(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    order = h.order()
    erpnext.rate_limit(1, retry_after="600")

    before = datetime.now(UTC)
    h.round()

    [step] = h.sync.ledger.steps(order_id=order.id)
    assert (step.status, step.attempts) == (StepStatus.PENDING, 1)
    assert step.next_attempt_at is not None
    assert (step.next_attempt_at - before).total_seconds() >= 599
    assert "RateLimited" in (step.last_error or "")
    assert erpnext.documents(PO) == []

    h.due_now()
    h.round()
    assert len(erpnext.documents(PO)) == 1


def test_a_refused_order_fails_then_goes_once_fixed_and_retried(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    order = h.order(supplier="NEWCO")  # not a Supplier in ERPNext yet
    h.book.confirm(order.id, NOW)

    h.round()

    steps = h.sync.ledger.steps(order_id=order.id)
    assert {s.action: s.status for s in steps} == {
        "create": StepStatus.FAILED,
        "confirm": StepStatus.SKIPPED,
    }
    create = next(s for s in steps if s.action == "create")
    assert "Rejected" in (create.last_error or "")
    assert "NEWCO" in (create.last_error or "")
    assert create.attempts == 1  # a refusal is not retried by itself

    erpnext.suppliers.add("NEWCO")
    assert h.sync.ledger.retry(link="erp") == 2  # the failed create, the skipped confirm
    h.round()
    assert h.steps(order) == {"create": StepStatus.DONE, "confirm": StepStatus.DONE}
    [doc] = erpnext.documents(PO)
    assert doc["docstatus"] == 1


def test_an_order_cancelled_before_anything_was_sent_is_never_sent(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    order = h.order()
    h.book.cancel(order.id, NOW, "changed our mind")

    h.round()

    assert h.sync.ledger.steps(order_id=order.id) == []
    assert erpnext.requests == []


def test_a_cancel_after_a_lost_create_finds_the_record_and_removes_it(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    order = h.order()
    erpnext.lose_next("create")
    h.round()  # the draft exists there; we do not know it yet
    assert len(erpnext.documents(PO)) == 1
    assert h.sync.ledger.remote(order.id, "erp") is None

    h.book.cancel(order.id, NOW, "not needed")
    h.round()

    assert h.steps(order) == {"create": StepStatus.SKIPPED, "cancel": StepStatus.DONE}
    assert erpnext.documents(PO) == []  # a draft cannot be cancelled in Frappe: deleted
    assert erpnext.count("POST", "/api/resource/") == 1


def test_confirmation_receipt_and_cancellation_made_there_move_our_orders(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    kept, dropped = h.order(), h.order(sku="NUT-M8", site="south")
    erpnext.items.add("NUT-M8")
    h.round()
    names = {d["custom_vmi_reference"]: d["name"] for d in erpnext.documents(PO)}

    erpnext.set_fields(PO, names[f"vmi-{kept.id}"], docstatus=1, status="To Receive and Bill")
    erpnext.set_fields(PO, names[f"vmi-{dropped.id}"], docstatus=2, status="Cancelled")
    assert h.sync.ledger.check_soon("erp") == 2  # what a remote webhook does
    h.round()

    assert h.book.get(kept.id).status == OrderStatus.CONFIRMED
    assert h.book.get(dropped.id).status == OrderStatus.CANCELLED
    assert "Cancelled" in (h.book.get(dropped.id).cancel_reason or "")
    # The moves are recorded as done there, not sent back.
    assert h.steps(kept) == {"create": StepStatus.DONE, "confirm": StepStatus.DONE}
    assert h.steps(dropped) == {"create": StepStatus.DONE, "cancel": StepStatus.DONE}
    assert erpnext.count("PUT", "/api/resource/") == 0
    assert erpnext.count("POST", "/api/method/frappe.client.cancel") == 0

    erpnext.set_fields(PO, names[f"vmi-{kept.id}"], per_received=100, status="To Bill")
    h.sync.ledger.check_soon("erp", reference=f"vmi-{kept.id}")
    h.round()
    received = h.book.get(kept.id)
    assert (received.status, received.received_quantity) == (OrderStatus.RECEIVED, 24)
    stats = h.sync.stats("erp")
    assert (stats.moved, stats.conflicts) == (3, 0)


def test_remote_states_are_read_only_as_often_as_poll_s_says(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    h.order()
    h.round()
    reads = erpnext.count("GET", "/api/resource/Purchase%20Order/")
    h.round()
    h.round()
    assert erpnext.count("GET", "/api/resource/Purchase%20Order/") == reads
    assert h.sync.stats("erp").checked == 1


def test_only_the_orders_a_link_wants_are_sent(
    erpnext: ErpNextStandIn, odoo: OdooStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(
        erp_link(erpnext, tmp_path, suppliers=["ACME"], sites=["north"]),
        odoo_link(odoo, tmp_path, suppliers=["ACME"], push=["create"], pull=False),
    )
    wanted = h.order()
    other_supplier = h.order(sku="NUT-M8", supplier="ZED")
    other_site = h.order(site="south")
    h.book.confirm(wanted.id, NOW)

    h.round("erp")
    h.round("odoo")

    assert [d["custom_vmi_reference"] for d in erpnext.documents(PO)] == [f"vmi-{wanted.id}"]
    assert sorted(o["partner_ref"] for o in odoo.orders("purchase.order")) == sorted(
        [f"vmi-{wanted.id}", f"vmi-{other_site.id}"]
    )
    assert h.steps(other_supplier) == {}
    assert h.steps(wanted, "odoo") == {"create": StepStatus.DONE}  # push = create only
    [odoo_order] = [
        o for o in odoo.orders("purchase.order") if o["partner_ref"] == f"vmi-{wanted.id}"
    ]
    assert odoo_order["state"] == "draft"
    assert h.sync.stats("odoo").checked == 0  # pull = false: never read back
    stored = h.sync.ledger.remote(wanted.id, "odoo")
    assert stored is not None
    assert stored.remote_status is None


def test_an_erp_on_a_private_address_is_not_reached_unless_allowlisted(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path), allow_private=[])
    order = h.order()

    h.round()

    [step] = h.sync.ledger.steps(order_id=order.id)
    assert step.status is StepStatus.FAILED
    assert "AddressRefused" in (step.last_error or "")
    assert "127.0.0.1, a loopback address" in (step.last_error or "")
    assert erpnext.requests == []


def test_odoo_gets_create_confirm_and_cancel_from_our_orders(
    odoo: OdooStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(odoo_link(odoo, tmp_path))
    order = h.order()
    h.book.confirm(order.id, NOW)
    h.round("odoo")
    [remote] = odoo.orders("purchase.order")
    assert (remote["partner_ref"], remote["state"]) == (f"vmi-{order.id}", "purchase")

    h.book.cancel(order.id, NOW, "not needed")
    h.round("odoo")
    [remote] = odoo.orders("purchase.order")
    assert remote["state"] == "cancel"
    stored = h.sync.ledger.remote(order.id, "odoo")
    assert stored is not None
    assert stored.remote_status is OrderStatus.CANCELLED


def test_pending_steps_survive_a_restart_and_two_processes_never_double_send(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness], sqlite_url: str
) -> None:
    first = make(erp_link(erpnext, tmp_path))
    orders = [first.order(sku=f"S{i}", site=f"site-{i}") for i in range(6)]
    erpnext.items.update(f"S{i}" for i in range(6))
    erpnext.fail_next(1, 503)
    first.round()  # the first create meets a 503: pending, retried later
    assert len(erpnext.documents(PO)) == 5
    first.close()

    # "Restart": two new processes on the same database, rounds at the same time.
    a, b = make(erp_link(erpnext, tmp_path)), make(erp_link(erpnext, tmp_path))
    a.due_now()
    threads = [threading.Thread(target=h.round) for h in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert len(erpnext.documents(PO)) == 6
    for order in orders:
        [step] = a.sync.ledger.steps(order_id=order.id)
        assert step.status is StepStatus.DONE
    assert erpnext.count("POST", "/api/resource/") == 6
    assert sum(len(a.sync.ledger.attempts(s.id)) for s in a.sync.ledger.steps()) == 7


def test_the_worker_sends_on_its_own_and_waits_for_a_connector_it_cannot_open(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    table = erpnext_table(erpnext, tmp_path)
    secret = Path(table["api_secret_file"])
    secret.unlink()  # the secret file is not there yet
    h = make({"name": "erp", "connector": table}, idle_s=0.1)
    order = h.order()
    h.sync.start()
    try:
        _wait(lambda: h.sync.stats("erp").errors >= 1, "the failed open")
        assert erpnext.requests == []
        secret.write_text(erpnext.api_secret)
        _wait(lambda: len(erpnext.documents(PO)) == 1, "the create")
        h.book.confirm(order.id, NOW)
        h.sync.wake()
        _wait(lambda: erpnext.documents(PO)[0]["docstatus"] == 1, "the confirm")
    finally:
        assert h.sync.stop(10)
    assert h.sync.stats("erp").connected


def _wait(condition: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    from tests.waiting import wait_for

    wait_for(condition, timeout_s, what)


def test_steps_waiting_for_their_create_neither_spin_nor_hide_runnable_ones(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    waiting = [h.order(sku=f"S{i}", site=f"site-{i}") for i in range(3)]
    for order in waiting:
        h.book.confirm(order.id, NOW)
    erpnext.fail_next(3, 503)
    h.round()  # three creates fail: backoff; their confirms wait for them

    before = datetime.now(UTC)
    first = h.sync.ledger.next_due("erp")
    assert first is not None
    assert (first - before).total_seconds() > 2  # not "due now": the worker sleeps
    fresh = h.order(sku="NEW", site="site-new")
    h.sync.ledger.plan(h.config.systems[0], [fresh])
    due = h.sync.ledger.due("erp", 10)
    assert [(order_id, action) for _, _, order_id, action in due] == [(fresh.id, "create")]


def test_retry_never_revives_a_step_of_an_order_cancelled_meanwhile(
    erpnext: ErpNextStandIn, tmp_path: Path, make: Callable[..., Harness]
) -> None:
    h = make(erp_link(erpnext, tmp_path))
    order = h.order(supplier="NEWCO")  # refused by ERPNext
    h.round()
    h.book.cancel(order.id, NOW, "not needed")
    h.round()
    assert h.steps(order) == {"create": StepStatus.FAILED, "cancel": StepStatus.DONE}

    erpnext.suppliers.add("NEWCO")
    assert h.sync.ledger.retry() == 0
    h.round()
    assert erpnext.documents(PO) == []
