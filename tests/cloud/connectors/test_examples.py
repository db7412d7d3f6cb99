"""Each connector's examples.md is one order's exchange with its stand-in, recorded now:
these tests fail when a file is stale; `UPDATE_EXAMPLES=1` rewrites them.

Everything recorded is fixed: the planned date, the stand-ins' "today", their ids; the
loopback port, secrets and tokens become placeholders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from cloud.connectors import Connector, OrderChange, connector_config, open_connector
from tests.cloud.connectors.examples import (
    CONNECTORS,
    Steps,
    check_examples,
    jsonrpc_call,
    loopback,
    render_http,
    render_json_steps,
)
from tests.cloud.connectors.samples import (
    erpnext_table,
    fxiaoke_table,
    odoo_table,
    spec,
    zoho_table,
)
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn
from tests.cloud.connectors.standin_fxiaoke import FxiaokeStandIn
from tests.cloud.connectors.standin_odoo import OdooStandIn
from tests.cloud.connectors.standin_zoho import ZohoStandIn

TODAY, DUE = date(2026, 3, 2), date(2026, 3, 9)


def open_on(table: dict[str, Any]) -> Connector:
    """A connector opened from a `[connector]` table, as the service opens it."""
    return open_connector(connector_config(table))


def create_confirm_status(connector: Connector, traffic: list[Any]) -> Steps:
    """Create `vmi-42` (24 x BOLT-M8, due DUE), confirm it, read its status; the steps."""
    ref = connector.create_order(spec(planned_date=DUE))
    steps = [("`create_order(vmi-42)`", len(traffic))]
    connector.update_order(ref, OrderChange.CONFIRM)
    steps.append(("`update_order(confirm)`", len(traffic)))
    connector.fetch_status(ref)
    steps.append(("`fetch_status`", len(traffic)))
    connector.close()
    return steps


# -- Odoo -------------------------------------------------------------------------------

ODOO_HEAD = f"""# Odoo: one create, confirm and status read over JSON-RPC, as sent and answered

Recorded from `tests/cloud/connectors/standin_odoo.py` by `test_odoo_examples`
(`tests/cloud/connectors/test_examples.py`), which fails when this file is stale;
`UPDATE_EXAMPLES=1` rewrites it. `<api_key>` is the Odoo user's API key (sent in every
call's arguments: use https). The order: `vmi-42`, 24 x `BOLT-M8` from `ACME` (the
`res.partner` whose `ref` is ACME), due {DUE}, as a `purchase.order` in database `vmi`.
Exchanges, by what the connector was asked:"""


def test_odoo_examples(tmp_path: Path) -> None:
    with OdooStandIn() as odoo:
        odoo.add_partner("ACME", "Acme Supplies")
        odoo.add_product("BOLT-M8", barcode="04012345678901")
        connector = open_on(odoo_table(odoo, tmp_path, protocol="jsonrpc"))
        steps = create_confirm_status(connector, odoo.traffic)
        placeholders = loopback(odoo, "<url>") | {odoo.password: "<api_key>"}
        text = render_http(ODOO_HEAD, odoo.traffic, placeholders, steps=steps, label=jsonrpc_call)
    check_examples(CONNECTORS / "odoo" / "examples.md", text)


# -- ERPNext ----------------------------------------------------------------------------

ERPNEXT_HEAD = f"""# ERPNext: one create, submit and status read, as sent and answered

Recorded from `tests/cloud/connectors/standin_erpnext.py` by `test_erpnext_examples`
(`tests/cloud/connectors/test_examples.py`), which fails when this file is stale;
`UPDATE_EXAMPLES=1` rewrites it. `<api_key>` and `<api_secret>` are the API user's key
and secret. The order: `vmi-42`, 24 x `BOLT-M8` from `ACME` ("Acme Supplies Ltd" in
`parties`), due {DUE}, as a Purchase Order carrying our reference in the Custom Field
`custom_vmi_reference`; the site's today is {TODAY}. Exchanges, by what the connector
was asked:"""


def test_erpnext_examples(tmp_path: Path) -> None:
    with ErpNextStandIn() as erpnext:
        erpnext.today = TODAY
        erpnext.suppliers.add("Acme Supplies Ltd")
        erpnext.items.add("BOLT-M8")
        erpnext.add_custom_field("Purchase Order", "custom_vmi_reference")
        connector = open_on(erpnext_table(erpnext, tmp_path))
        steps = create_confirm_status(connector, erpnext.traffic)
        placeholders = loopback(erpnext, "<url>") | {
            erpnext.api_key: "<api_key>",
            erpnext.api_secret: "<api_secret>",
        }
        text = render_http(ERPNEXT_HEAD, erpnext.traffic, placeholders, steps=steps)
    check_examples(CONNECTORS / "erpnext" / "examples.md", text)


# -- Zoho CRM ---------------------------------------------------------------------------

ZOHO_HEAD = f"""# Zoho CRM: one create, confirm and status read, as sent and answered

Recorded from `tests/cloud/connectors/standin_zoho.py` by `test_zoho_crm_examples`
(`tests/cloud/connectors/test_examples.py`), which fails when this file is stale;
`UPDATE_EXAMPLES=1` rewrites it. Secrets and tokens are placeholders; `<api_domain>` is the
API domain (here also the accounts server). The order: `vmi-42`, 24 x `BOLT-M8` from `ACME`
("Acme Supplies Ltd" in Vendors), due {DUE}, into `Purchase_Orders`. Exchanges, by what
the connector was asked:"""


def test_zoho_crm_examples(tmp_path: Path) -> None:
    with ZohoStandIn() as zoho:
        zoho.now = lambda: datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
        zoho.add("Products", Product_Code="BOLT-M8", Product_Name="Bolt M8")
        zoho.add("Vendors", Vendor_Name="Acme Supplies Ltd")
        zoho.add("Accounts", Account_Name="North Plant")
        connector = open_on(zoho_table(zoho, tmp_path))
        steps = create_confirm_status(connector, zoho.traffic)
        placeholders = loopback(zoho, "<api_domain>") | {
            zoho.client_id: "<client_id>",
            zoho.client_secret: "<client_secret>",
            zoho.refresh_token: "<refresh_token>",
            **dict.fromkeys(zoho.issued, "<access_token>"),
        }
        text = render_http(ZOHO_HEAD, zoho.traffic, placeholders, steps=steps)
    check_examples(CONNECTORS / "zoho_crm" / "examples.md", text)


# -- Fxiaoke: its own JSON-only style (every answer is HTTP 200 with errorCode) ----------

FXIAOKE_HEAD = """# Fxiaoke: recorded requests and answers

One create / confirm / ship / status exchange, as the connector sent it to the
stand-in (`tests/cloud/connectors/standin_fxiaoke.py`) and as the stand-in
answered: every answer is HTTP 200, only `errorCode` 0 is success. Secrets, tokens,
the `thirdTraceId` and today's date are placeholders. Written by
`UPDATE_EXAMPLES=1 pytest tests/cloud/connectors/test_examples.py`;
`test_fxiaoke_examples` checks that this file matches what the connector sends now."""
FXIAOKE_REDACTED = {
    "appSecret": "<app_secret>",
    "permanentCode": "<permanent_code>",
    "corpAccessToken": "<corpAccessToken>",
    "order_time": "<today 00:00 UTC, epoch ms>",  # the connector's today, not the stand-in's
}
FXIAOKE_STEPS = [
    "create_order(vmi-42): token, look-ups, create, read back",
    "update_order(confirm): already 正常, nothing to write",
    "update_order(ship): read, then logistics_status 3",
    "fetch_status",
]


def test_fxiaoke_examples(tmp_path: Path) -> None:
    with FxiaokeStandIn(today=date(2030, 1, 2)) as fx:
        fx.add_account("North Plant Co., Ltd.")
        fx.add_product("BOLT-M8", "M8 螺栓")
        connector = open_on(fxiaoke_table(fx, tmp_path))
        ref = connector.create_order(spec(planned_date=date(2030, 1, 15)))
        marks = [len(fx.exchanges)]
        for change in (OrderChange.CONFIRM, OrderChange.SHIP):
            connector.update_order(ref, change)
            marks.append(len(fx.exchanges))
        connector.fetch_status(ref)
        marks.append(len(fx.exchanges))
        connector.close()
        steps = list(zip(FXIAOKE_STEPS, marks, strict=True))
        text = render_json_steps(FXIAOKE_HEAD, fx.exchanges, steps, FXIAOKE_REDACTED)
    check_examples(CONNECTORS / "fxiaoke" / "examples.md", text)


@pytest.mark.parametrize("folder", ["odoo", "erpnext", "zoho_crm", "fxiaoke"])
def test_each_readme_points_to_its_examples(folder: str) -> None:
    readme = (CONNECTORS / folder / "README.md").read_text(encoding="utf-8")
    assert "[examples.md](examples.md)" in readme
    assert (CONNECTORS / folder / "examples.md").is_file()
