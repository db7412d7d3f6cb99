"""Stand-in ERPs for the connector tests, and connectors wired to them through config
files (secrets in files, as in production)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cloud.connectors import connector_config, open_connector
from cloud.connectors.erpnext import ErpNextConnector
from cloud.connectors.odoo import OdooConnector
from tests.cloud.connectors.samples import erpnext_table, odoo_table
from tests.cloud.connectors.standin_erpnext import ErpNextStandIn
from tests.cloud.connectors.standin_fxiaoke import FxiaokeStandIn
from tests.cloud.connectors.standin_odoo import OdooStandIn
from tests.cloud.connectors.standin_zoho import ZohoStandIn


@pytest.fixture
def odoo() -> Iterator[OdooStandIn]:
    with OdooStandIn() as server:
        server.add_partner("ACME", "Acme Supplies")
        server.add_partner("NORTH", "North Plant")
        server.add_product("BOLT-M8", barcode="04012345678901")
        yield server


@pytest.fixture
def erpnext() -> Iterator[ErpNextStandIn]:
    with ErpNextStandIn() as server:
        server.suppliers.add("Acme Supplies Ltd")
        server.customers.add("NORTH")
        server.items.add("BOLT-M8")
        server.add_custom_field("Purchase Order", "custom_vmi_reference")
        server.add_custom_field("Material Request", "custom_vmi_reference")
        yield server


@pytest.fixture
def zoho() -> Iterator[ZohoStandIn]:
    with ZohoStandIn() as server:
        server.add("Products", Product_Code="BOLT-M8", Product_Name="Bolt M8")
        server.add("Vendors", Vendor_Name="Acme Supplies Ltd")
        server.add("Accounts", Account_Name="North Plant")
        yield server


@pytest.fixture
def fx() -> Iterator[FxiaokeStandIn]:
    with FxiaokeStandIn() as server:
        server.add_account("North Plant Co., Ltd.")
        server.add_product("BOLT-M8", "M8 螺栓")
        yield server


@pytest.fixture
def make_odoo(odoo: OdooStandIn, tmp_path: Path) -> Iterator[Callable[..., OdooConnector]]:
    """Connectors to the Odoo stand-in; keyword arguments change the config table."""
    made: list[OdooConnector] = []

    def make(**changes: Any) -> OdooConnector:
        connector = open_connector(connector_config(odoo_table(odoo, tmp_path, **changes)))
        assert isinstance(connector, OdooConnector)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def make_erpnext(
    erpnext: ErpNextStandIn, tmp_path: Path
) -> Iterator[Callable[..., ErpNextConnector]]:
    """Connectors to the ERPNext stand-in; keyword arguments change the config table."""
    made: list[ErpNextConnector] = []

    def make(**changes: Any) -> ErpNextConnector:
        connector = open_connector(connector_config(erpnext_table(erpnext, tmp_path, **changes)))
        assert isinstance(connector, ErpNextConnector)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()
