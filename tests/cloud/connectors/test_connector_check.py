"""`vmi connector check` against the four stand-ins (create, update, read back): one JSON
line on stdout, or one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.connectors.samples import erpnext_table, fxiaoke_table, odoo_table, zoho_table
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn
from tests.cloud.connectors.standin_fxiaoke import FxiaokeStandIn
from tests.cloud.connectors.standin_odoo import OdooStandIn
from tests.cloud.connectors.standin_zoho import ZohoStandIn
from vmi.cli import main


def write_config(path: Path, table: dict[str, Any]) -> Path:
    lines = ["[connector]"]
    for key, value in table.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def check(
    capsys: pytest.CaptureFixture[str], *argv: str, allow: str | None = "127.0.0.1"
) -> tuple[int, str, str]:
    """`vmi connector check argv`, the stand-in's loopback address allowlisted unless
    `allow` is None."""
    extra = [] if allow is None else ["--allow-private", allow]
    code = main(["connector", "check", *argv, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_odoo_check_prints_the_remote_id_and_the_same_reference_finds_it_again(
    odoo: OdooStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "odoo.toml", odoo_table(odoo, tmp_path))
    argv = ("--config", str(config), "--sku", "BOLT-M8", "--supplier", "ACME")

    code, out, err = check(capsys, *argv, "--reference", "vmi-check-1")
    assert (code, err) == (0, "")
    [line] = out.splitlines()
    first = json.loads(line)
    [order] = odoo.orders("purchase.order")
    assert first == {
        "kind": "odoo",
        "record_type": "purchase.order",
        "id": str(order["id"]),
        "name": "P00001",
        "reference": "vmi-check-1",
        "existed": False,
        "status": "proposed",
        "remote_state": "draft",
    }

    code, out, _ = check(capsys, *argv, "--reference", "vmi-check-1", "--confirm")
    again = json.loads(out)
    assert code == 0
    assert (again["id"], again["existed"], again["status"]) == (first["id"], True, "confirmed")
    assert len(odoo.orders("purchase.order")) == 1


def test_erpnext_check_creates_confirms_and_cancels(
    erpnext: ErpNextStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = erpnext_table(erpnext, tmp_path, doctype="Sales Order", reference_field="po_no")
    config = write_config(tmp_path / "erpnext.toml", table)

    code, out, err = check(
        capsys, "--config", str(config), "--sku", "BOLT-M8", "--customer", "NORTH",
        "--quantity", "5", "--confirm", "--cancel",
    )  # fmt: skip
    assert (code, err) == (0, "")
    line = json.loads(out)
    assert (line["kind"], line["record_type"]) == ("erpnext", "Sales Order")
    assert (line["status"], line["remote_state"]) == ("cancelled", "Cancelled")
    assert re.fullmatch(r"vmi-check-\d{8}-\d{6}", line["reference"])
    [doc] = erpnext.documents("Sales Order")
    assert (doc["name"], doc["po_no"], doc["items"][0]["qty"]) == (line["id"], line["reference"], 5)


def test_a_refusal_is_one_line_on_stderr_and_exit_1(
    odoo: OdooStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "odoo.toml", odoo_table(odoo, tmp_path))
    odoo.password = "rotated-on-the-server"

    code, out, err = check(
        capsys, "--config", str(config), "--sku", "BOLT-M8", "--supplier", "ACME"
    )
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith("vmi connector check: AuthFailed: odoo: authenticate: login 'vmi-bot'")
    assert "odoo-api-key" not in err

    odoo.password = "odoo-api-key-0123456789abcdef"
    code, out, err = check(capsys, "--config", str(config), "--sku", "NOPE", "--supplier", "ACME")
    assert code == 1
    assert (
        err == "vmi connector check: Rejected: odoo: no product with default_code 'NOPE' "
        "(product.product)\n"
    )


def test_a_loopback_or_private_erp_is_refused_unless_allowlisted(
    odoo: OdooStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "odoo.toml", odoo_table(odoo, tmp_path))
    argv = ("--config", str(config), "--sku", "BOLT-M8", "--supplier", "ACME")

    code, out, err = check(capsys, *argv, allow=None)
    assert (code, out) == (1, "")
    assert err.startswith("vmi connector check: AddressRefused: odoo: POST ")
    assert "127.0.0.1 is 127.0.0.1, a loopback address: not sent" in err
    assert odoo.requests == []  # nothing reached it

    code, out, err = check(capsys, *argv, allow="10.0.0.0/8")  # another network: still refused
    assert code == 1
    assert "AddressRefused" in err
    code, out, err = check(capsys, *argv, allow="127.0.0.0/8")
    assert (code, err) == (0, "")
    assert json.loads(out)["kind"] == "odoo"


def test_a_system_that_is_down_is_exit_1(
    odoo: OdooStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path / "odoo.toml", odoo_table(odoo, tmp_path, url="http://127.0.0.1:9")
    )
    code, _, err = check(capsys, "--config", str(config), "--sku", "BOLT-M8", "--supplier", "A")
    assert code == 1
    assert err.startswith("vmi connector check: Unavailable: odoo: POST http://127.0.0.1:9/jsonrpc")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kind": "zoho_crm", "url": "https://www.zohoapis.eu"}, "module: Field required"),
        ({"kind": "fxiaoke", "url": "https://open.fxiaoke.com"}, "app_id: Field required"),
        ({"kind": "odoo", "url": "https://erp.example.com"}, "database: Field required"),
    ],
)
def test_a_wrong_config_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: dict[str, Any], message: str
) -> None:
    config = write_config(tmp_path / "c.toml", table)
    code, out, err = check(capsys, "--config", str(config), "--sku", "X")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err


def test_a_wrong_option_is_exit_2(
    odoo: OdooStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "odoo.toml", odoo_table(odoo, tmp_path))
    code, _, err = check(capsys, "--config", str(config), "--sku", "X", "--quantity", "0")
    assert code == 2
    assert "quantity: Input should be greater than 0" in err
    code, _, err = check(capsys, "--config", str(config), "--sku", "X", "--planned-date", "soon")
    assert code == 2
    assert "--planned-date 'soon' is not a date" in err
    assert odoo.count("create") == 0


def test_zoho_check_creates_confirms_and_follows_a_status_set_in_zoho(
    zoho: ZohoStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "zoho.toml", zoho_table(zoho, tmp_path))
    argv = ("--config", str(config), "--sku", "BOLT-M8", "--supplier", "ACME")

    code, out, err = check(capsys, *argv, "--reference", "vmi-check-7", "--confirm")
    assert (code, err) == (0, "")
    made = json.loads(out)
    assert (made["kind"], made["record_type"], made["status"]) == (
        "zoho_crm",
        "Purchase_Orders",
        "confirmed",
    )
    [record] = zoho.documents("Purchase_Orders")
    assert (record["id"], record["Status"]) == (made["id"], "Approved")

    zoho.set_fields("Purchase_Orders", made["id"], Status="Delivered")  # received there
    code, out, _ = check(capsys, *argv, "--reference", "vmi-check-7")
    again = json.loads(out)
    assert (code, again["existed"], again["status"], again["remote_state"]) == (
        0,
        True,
        "received",
        "Delivered",
    )


def test_fxiaoke_check_creates_ships_and_cancels_a_sales_order(
    fx: FxiaokeStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "fx.toml", fxiaoke_table(fx, tmp_path))
    argv = ("--config", str(config), "--sku", "BOLT-M8", "--customer", "NORTH")

    code, out, err = check(capsys, *argv, "--reference", "vmi-check-8", "--confirm", "--ship")
    assert (code, err) == (0, "")
    made = json.loads(out)
    assert (made["kind"], made["record_type"], made["status"]) == (
        "fxiaoke",
        "SalesOrderObj",
        "shipped",
    )
    [order] = fx.orders()
    assert (order["_id"], order["remark"], order["logistics_status"]) == (
        made["id"],
        "vmi-check-8",
        "3",
    )

    code, out, _ = check(capsys, *argv, "--reference", "vmi-check-8", "--cancel")
    assert (code, json.loads(out)["status"]) == (0, "cancelled")
    [order] = fx.orders()
    assert order["life_status"] == "invalid"
    assert len(fx.orders()) == 1
