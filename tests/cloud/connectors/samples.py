"""The sample order and connector config tables the connector tests use."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cloud.connectors import OrderSpec
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn
from tests.cloud.connectors.standin_fxiaoke import FxiaokeStandIn
from tests.cloud.connectors.standin_odoo import OdooStandIn
from tests.cloud.connectors.standin_zoho import ZohoStandIn

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


def zoho_table(server: ZohoStandIn, tmp_path: Path, **changes: Any) -> dict[str, Any]:
    """A Zoho CRM `[connector]` table for `server` (Purchase_Orders), its three secrets in
    files; a None change drops the key."""
    for key in ("client_id", "client_secret", "refresh_token"):
        (tmp_path / f"zoho.{key}").write_text(getattr(server, key) + "\n")
    table: dict[str, Any] = {
        "kind": "zoho_crm",
        "url": server.url,
        "accounts_url": server.url,
        **{f"{k}_file": str(tmp_path / f"zoho.{k}") for k in ("client_id", "client_secret")},
        "refresh_token_file": str(tmp_path / "zoho.refresh_token"),
        "module": "Purchase_Orders",
        "parties": {"ACME": "Acme Supplies Ltd", "NORTH": "North Plant"},
    }
    return {k: v for k, v in (table | changes).items() if v is not None}


def fxiaoke_table(server: FxiaokeStandIn, tmp_path: Path, **changes: Any) -> dict[str, Any]:
    """A Fxiaoke `[connector]` table for `server` (SalesOrderObj), the two secrets in files."""
    (tmp_path / "fx.secret").write_text(server.app_secret + "\n")
    (tmp_path / "fx.code").write_text(server.permanent_code)
    values: dict[str, Any] = {
        "kind": "fxiaoke",
        "url": server.url,
        "app_id": server.app_id,
        "app_secret_file": str(tmp_path / "fx.secret"),
        "permanent_code_file": str(tmp_path / "fx.code"),
        "current_open_user_id": next(iter(server.users)),
        "parties": {"NORTH": "North Plant Co., Ltd."},
    }
    return values | changes
