"""Connector sync throughput: orders into an ERP through the service's ledger, against the
same connector calling the same ERP directly.

    uv run python bench/connector_sync.py [--orders 500] [--database sqlite|postgresql]

The ERP is the ERPNext stand-in of the tests (a real HTTP server on loopback,
Purchase Orders kept in memory). Both runs create `--orders` Purchase Orders:

* raw: `ErpNextConnector.create_order` for each order, one after another (each
  looks our reference up first, then creates: two HTTP calls);
* sync: the orders are in the order book, and `ConnectorSync.run_once` rounds
  plan a create step for each, claim it, send it through the guarded client,
  store the remote record and log the attempt (SQL writes per order besides the
  same two HTTP calls), then read each record back once (`pull`).

Prints orders per second of each and the ratio: what the durable ledger costs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloud.connectors import OrderSpec, connector_config, open_connector  # noqa: E402
from cloud.connectors.models import StepStatus  # noqa: E402
from cloud.connectors.settings import ConnectorsConfig  # noqa: E402
from cloud.connectors.sync import ConnectorSync  # noqa: E402
from cloud.orders import OrderBook  # noqa: E402
from tests.cloud.connectors.samples import erpnext_table  # noqa: E402
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn  # noqa: E402
from tests.servers import PostgresServer  # noqa: E402

PO = "Purchase Order"


def stand_in(stack: ExitStack, skus: list[str]) -> ErpNextStandIn:
    server = stack.enter_context(ErpNextStandIn())
    server.suppliers.add("Acme Supplies Ltd")
    server.items.update(skus)
    server.add_custom_field(PO, "custom_vmi_reference")
    return server


def raw(n: int, skus: list[str], tmp: Path) -> float:
    with ExitStack() as stack:
        server = stand_in(stack, skus)
        connector = open_connector(connector_config(erpnext_table(server, tmp)))
        planned = date.today() + timedelta(days=5)
        started = time.perf_counter()
        for i, sku in enumerate(skus[:n]):
            spec = OrderSpec(
                reference=f"vmi-{i + 1}",
                site=f"site-{i}",
                sku=sku,
                quantity=24,
                planned_date=planned,
                supplier="ACME",
            )
            connector.create_order(spec)
        elapsed = time.perf_counter() - started
        connector.close()
        assert len(server.documents(PO)) == n
    return elapsed


def synced(n: int, skus: list[str], tmp: Path, url: str) -> tuple[float, int]:
    with ExitStack() as stack:
        server = stand_in(stack, skus)
        book = OrderBook(url)
        now = datetime.now(UTC)
        for i, sku in enumerate(skus[:n]):
            book.create(
                site=f"site-{i}",
                sku=sku,
                quantity=24,
                reason="bench",
                on_hand=3,
                rate_per_day=2,
                at=now,
                supplier="ACME",
            )
        config = ConnectorsConfig.model_validate(
            {
                "systems": [{"name": "erp", "connector": erpnext_table(server, tmp)}],
                "allow_private": ["127.0.0.1"],
            }
        )
        sync = ConnectorSync(config, orders=book, url=url)
        connector = sync.open_link("erp")
        rounds = 0
        started = time.perf_counter()
        while len(sync.ledger.steps(status=StepStatus.DONE, limit=n + 1)) < n:
            sync.run_once("erp", connector)
            rounds += 1
        elapsed = time.perf_counter() - started
        connector.close()
        book.close()
        assert len(server.documents(PO)) == n
    return elapsed, rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    n = args.orders
    skus = [f"SKU-{i:05d}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmpdir, ExitStack() as stack:
        tmp = Path(tmpdir)
        if args.database == "postgresql":
            pg = stack.enter_context(PostgresServer(tmp / "pg"))
            url = pg.create_database("bench_connectors")
        else:
            url = f"sqlite:///{tmp / 'orders.db'}"
        raw_s = raw(n, skus, tmp)
        sync_s, rounds = synced(n, skus, tmp, url)
    print(f"orders: {n}, database: {args.database}, ERP: ERPNext stand-in on loopback")
    print(f"raw connector:   {n / raw_s:8.1f} orders/s ({raw_s:.2f} s)")
    print(
        f"service sync:    {n / sync_s:8.1f} orders/s ({sync_s:.2f} s, {rounds} rounds, "
        "each order also read back once)"
    )
    print(f"sync / raw:      {raw_s / sync_s:8.2f}")


if __name__ == "__main__":
    main()
