"""The sample order and connector config tables the connector tests use."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cloud.connectors import OrderSpec
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn
from tests.cloud.connectors.standin_odoo import OdooStandIn

PLANNED = date.today() + timedelta(days=5)


def spec(reference: str = "vmi-42", **changes: Any) -> OrderSpec:
    """A sample order: 24 M8 bolts for site north, from ACME to customer NORTH."""
    values: dict[str, Any] = {
        "reference": reference,
        "site": "north",
        "sku": "BOLT-M8",
        "quantity": 24,
        "planned_date": PLANNED,
        "supplier": "ACME",
        "customer": "NORTH",
    }
    return OrderSpec(**(values | changes))


def odoo_table(server: OdooStandIn, tmp_path: Path, **changes: Any) -> dict[str, Any]:
    """An Odoo `[connector]` table for `server`, its key in a file."""
    key = tmp_path / "odoo.key"
    key.write_text(server.password + "\n")
    table: dict[str, Any] = {
        "kind": "odoo",
        "url": server.url,
        "database": server.database,
        "login": server.login,
        "password_file": str(key),
        "model": "purchase.order",
    }
    return table | changes


def erpnext_table(server: ErpNextStandIn, tmp_path: Path, **changes: Any) -> dict[str, Any]:
    """An ERPNext `[connector]` table for `server`, its key and secret in files."""
    (tmp_path / "erp.key").write_text(server.api_key)
    (tmp_path / "erp.secret").write_text(server.api_secret + "\n")
    table: dict[str, Any] = {
        "kind": "erpnext",
        "url": server.url,
        "api_key_file": str(tmp_path / "erp.key"),
        "api_secret_file": str(tmp_path / "erp.secret"),
        "doctype": "Purchase Order",
        "reference_field": "custom_vmi_reference",
        "parties": {"ACME": "Acme Supplies Ltd"},
    }
    return table | changes
