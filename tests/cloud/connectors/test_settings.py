"""The service's `[connectors]` section: links validated once at start-up, their
`[connector]` tables from a file or inline, secrets never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud.config import load_cloud_config
from cloud.connectors.erpnext import ErpNextConfig
from cloud.connectors.settings import ConnectorLink
from vmi.errors import ConfigError

ERP = """
[connector]
kind = "erpnext"
url = "https://erp.example.com"
api_key = "k"
api_secret_env = "VMI_TEST_ERP_SECRET"
doctype = "Sales Order"
"""


def cloud_toml(tmp_path: Path, connectors: str) -> Path:
    path = tmp_path / "cloud.toml"
    path.write_text(connectors)
    return path


def test_links_read_their_connector_from_a_file_or_inline(tmp_path: Path) -> None:
    (tmp_path / "erp.toml").write_text(ERP)
    config = load_cloud_config(
        cloud_toml(
            tmp_path,
            f"""
[connectors]
allow_private = ["10.20.0.0/16"]
[[connectors.systems]]
name = "acme-erpnext"
config = "{tmp_path / "erp.toml"}"
suppliers = ["ACME"]
[[connectors.systems]]
name = "north-odoo"
connector = {{ kind = "odoo", url = "http://10.20.0.5:8069", database = "d", login = "l", \
password_file = "/etc/vmi/odoo", model = "purchase.order" }}
customers = ["NORTH"]
push = ["create", "cancel"]
""",
        )
    )
    erp, odoo = config.connectors.systems
    resolved = erp.resolved()
    assert isinstance(resolved, ErpNextConfig)
    assert resolved.doctype == "Sales Order"
    assert erp.wants("any-site", "ACME", None)
    assert not erp.wants("any-site", "OTHER", None)
    assert odoo.wants("s", None, "NORTH")
    assert not odoo.wants("s", None, "SOUTH")
    assert odoo.push == ("create", "cancel")


@pytest.mark.parametrize(
    ("systems", "message"),
    [
        (
            'name = "a"\nconfig = "x.toml"\nconnector = { kind = "odoo", '
            'url = "https://o.example.com", database = "d", login = "l", password = "p", '
            'model = "sale.order" }',
            "exactly one of config",
        ),
        ('name = "a"', "exactly one of config"),
        ('name = "Bad Name"\nconfig = "x.toml"', "name"),
        ('name = "a"\nconfig = "x.toml"\npush = ["confirm"]', "push without create"),
        ('name = "a"\nconnector = { kind = "sap" }', "unknown kind 'sap'"),
        (
            'name = "a"\nconnector = { kind = "erpnext", url = "https://e.example.com", '
            'api_key = "TOPSECRET-1", api_secret = "TOPSECRET-2" }',
            "doctype: Field required",
        ),
    ],
)
def test_a_wrong_link_is_one_config_error_naming_it(
    tmp_path: Path, systems: str, message: str
) -> None:
    path = cloud_toml(tmp_path, f"[[connectors.systems]]\n{systems}\n")
    with pytest.raises(ConfigError, match=message) as err:
        load_cloud_config(path)
    assert "TOPSECRET" not in str(err.value)


def test_link_names_are_unique(tmp_path: Path) -> None:
    twice = '[[connectors.systems]]\nname = "a"\nconfig = "x.toml"\n'
    with pytest.raises(ConfigError, match="connector names must be unique: a"):
        load_cloud_config(cloud_toml(tmp_path, twice * 2))


def test_a_missing_connector_file_is_a_config_error_when_resolved(tmp_path: Path) -> None:
    link = ConnectorLink(name="a", config=tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="cannot read connector config"):
        link.resolved()
