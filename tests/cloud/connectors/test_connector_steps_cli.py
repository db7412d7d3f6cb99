"""`vmi connector steps` and `vmi connector retry` on the ledger a service wrote."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud.connectors.settings import ConnectorsConfig
from cloud.connectors.sync import ConnectorSync
from cloud.orders import OrderBook
from tests.cloud.connectors.samples import erpnext_table
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn
from vmi.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(["connector", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_steps_show_the_refusal_and_retry_sends_it_again(
    erpnext: ErpNextStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "orders.db"
    (tmp_path / "cloud.toml").write_text(f'[orders]\nurl = "sqlite:///{db}"\n')
    config = str(tmp_path / "cloud.toml")
    book = OrderBook(f"sqlite:///{db}")
    order = book.create(
        site="north",
        sku="BOLT-M8",
        quantity=24,
        reason="test",
        on_hand=3,
        rate_per_day=2,
        at=datetime.now(UTC),
        supplier="NEWCO",  # not a Supplier in ERPNext yet
    )
    assert order is not None
    links = ConnectorsConfig.model_validate(
        {
            "systems": [{"name": "erp", "connector": erpnext_table(erpnext, tmp_path)}],
            "allow_private": ["127.0.0.1"],
        }
    )
    sync = ConnectorSync(links, orders=book, url=f"sqlite:///{db}")
    connector = sync.open_link("erp")
    sync.run_once("erp", connector)

    code, lines, err = run(capsys, "steps", "--config", config, "--attempts")
    assert (code, err) == (0, "")
    [step] = [json.loads(line) for line in lines]
    assert (step["link"], step["order_id"], step["action"], step["status"]) == (
        "erp",
        order.id,
        "create",
        "failed",
    )
    assert "Could not find Supplier: NEWCO" in step["last_error"]
    assert [a["outcome"] for a in step["attempt_log"]] == ["failed"]
    assert "remote" not in step
    assert run(capsys, "steps", "--config", config, "--status", "pending")[1] == []

    erpnext.suppliers.add("NEWCO")
    code, lines, _ = run(capsys, "retry", "--config", config, "--link", "erp")
    assert (code, lines) == (0, ['{"requeued": 1}'])
    sync.run_once("erp", connector)
    code, lines, _ = run(capsys, "steps", "--config", config, "--order", str(order.id))
    [step] = [json.loads(line) for line in lines]
    assert (step["status"], step["attempts"]) == ("done", 2)
    assert step["remote"]["id"] == erpnext.documents("Purchase Order")[0]["name"]
    connector.close()
    book.close()


def test_steps_without_the_services_database_is_exit_2_and_makes_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "nowhere" / "orders.db"
    (tmp_path / "cloud.toml").write_text(f'[orders]\nurl = "sqlite:///{db}"\n')
    for command in ("steps", "retry"):
        code, lines, err = run(capsys, command, "--config", str(tmp_path / "cloud.toml"))
        assert (code, lines) == (2, [])
        assert err == (
            f"vmi connector {command}: no orders database at {db} "
            "(has the service run with this config?)\n"
        )
    assert not db.parent.exists()
