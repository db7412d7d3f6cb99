"""Every connector is a folder with a README and a sample the registry accepts; configs
are checked once, secrets come from the table, a file or the environment and are never
shown."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from cloud.connectors import (
    CONNECTORS,
    OrderSpec,
    connector_config,
    known_kinds,
    load_connector_config,
    open_connector,
)
from cloud.connectors.erpnext import ErpNextConfig
from cloud.connectors.odoo import OdooConfig
from vmi.errors import ConfigError

CONNECTORS_DIR = Path(__file__).resolve().parents[3] / "cloud" / "connectors"
SECRET = "s3cr3t-never-shown-0042"


def folder_of(kind: str) -> Path:
    module = CONNECTORS[kind].config.__module__  # cloud.connectors.<folder>.config
    return CONNECTORS_DIR / module.split(".")[2]


def sample(kind: str) -> dict[str, Any]:
    return tomllib.loads((folder_of(kind) / "sample.toml").read_text(encoding="utf-8"))


def odoo(**changes: Any) -> dict[str, Any]:
    table = {
        "kind": "odoo",
        "url": "https://erp.example.com/",
        "database": "example",
        "login": "bot",
        "password": SECRET,
        "model": "purchase.order",
    }
    return {k: v for k, v in (table | changes).items() if v is not None}


@pytest.mark.parametrize("kind", known_kinds())
def test_each_connector_folder_has_a_readme_and_a_sample(kind: str) -> None:
    readme = (folder_of(kind) / "README.md").read_text(encoding="utf-8")
    assert len(readme) > 500, f"{folder_of(kind)}/README.md says too little"
    assert "What was run against what" in readme
    for name in CONNECTORS[kind].config.model_fields:
        assert f"`{name}" in readme, f"README.md of {kind} does not document `{name}`"


@pytest.mark.parametrize("kind", known_kinds())
def test_the_sample_validates(kind: str) -> None:
    config = connector_config(sample(kind)["connector"])
    assert config.kind == kind
    assert isinstance(config, CONNECTORS[kind].config)


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match="unknown kind 'sap'; available: erpnext, fxiaoke, odoo, zoho_crm"
    ):
        connector_config({"kind": "sap", "url": "https://example.com"})


def test_the_url_is_a_base_url_without_credentials() -> None:
    assert connector_config(odoo()).url == "https://erp.example.com"
    for url in ("https://bot:pw@erp.example.com", "ftp://erp.example.com", "erp.example.com"):
        with pytest.raises(ConfigError, match="url"):
            connector_config(odoo(url=url))


def test_each_secret_comes_from_exactly_one_place(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text(SECRET)
    with pytest.raises(ConfigError, match="set only one of password, password_file"):
        connector_config(odoo(password_file=str(key)))
    with pytest.raises(ConfigError, match="set one of password, password_file or password_env"):
        connector_config(odoo(password=None))


def test_secrets_are_read_from_files_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "key"
    key.write_text(f"  {SECRET}\n")
    from_file = connector_config(odoo(password=None, password_file=str(key)))
    assert from_file.secret("password") == SECRET

    monkeypatch.setenv("VMI_TEST_ODOO_KEY", SECRET)
    from_env = connector_config(odoo(password=None, password_env="VMI_TEST_ODOO_KEY"))
    assert from_env.secret("password") == SECRET

    erp = connector_config(
        {
            "kind": "erpnext",
            "url": "https://erp.example.com",
            "api_key_env": "VMI_TEST_ODOO_KEY",
            "api_secret_file": str(key),
            "doctype": "Sales Order",
        }
    )
    assert (erp.secret("api_key"), erp.secret("api_secret")) == (SECRET, SECRET)


def test_an_unreadable_or_empty_secret_is_a_config_error_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = connector_config(odoo(password=None, password_file=str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match=r"cannot read password_file .*nope"):
        open_connector(missing)
    (tmp_path / "empty").write_text("\n")
    empty = connector_config(odoo(password=None, password_file=str(tmp_path / "empty")))
    with pytest.raises(ConfigError, match=r"password_file .*empty is empty"):
        open_connector(empty)
    monkeypatch.delenv("VMI_TEST_UNSET", raising=False)
    unset = connector_config(odoo(password=None, password_env="VMI_TEST_UNSET"))
    with pytest.raises(ConfigError, match=r"password_env \$VMI_TEST_UNSET is empty"):
        open_connector(unset)


def test_secrets_are_never_shown(tmp_path: Path) -> None:
    config = connector_config(odoo())
    connector = open_connector(config)
    try:
        shown = [str(config), repr(config), config.model_dump_json(), repr(connector)]
        assert all(SECRET not in text for text in shown)
    finally:
        connector.close()
    # A table that fails validation is not echoed either.
    with pytest.raises(ConfigError) as err:
        connector_config(odoo(modle="sale.order", timeout_s="soon"))
    assert SECRET not in str(err.value)
    assert "modle: Extra inputs are not permitted" in str(err.value)
    assert "\n" not in str(err.value)


def test_erpnext_needs_a_reference_field_unless_sales_order() -> None:
    base = {
        "kind": "erpnext",
        "url": "https://erp.example.com",
        "api_key": "k",
        "api_secret": "s",
    }
    sales = connector_config(base | {"doctype": "Sales Order"})
    assert isinstance(sales, ErpNextConfig)
    assert sales.order_reference_field() == "po_no"
    with pytest.raises(ConfigError, match="reference_field is required for a Purchase Order"):
        connector_config(base | {"doctype": "Purchase Order"})
    with pytest.raises(ConfigError, match="warehouse is required for a Material Request"):
        connector_config(base | {"doctype": "Material Request", "reference_field": "custom_ref"})
    with pytest.raises(ConfigError, match="reference_field"):
        connector_config(base | {"doctype": "Sales Order", "reference_field": "po_no; drop"})


def test_odoo_defaults_the_reference_field_by_model() -> None:
    purchase = connector_config(odoo())
    sale = connector_config(odoo(model="sale.order"))
    assert isinstance(purchase, OdooConfig)
    assert isinstance(sale, OdooConfig)
    assert (purchase.order_reference_field(), sale.order_reference_field()) == (
        "partner_ref",
        "client_order_ref",
    )


def test_a_config_file_needs_a_connector_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read connector config"):
        load_connector_config(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text(f'[connector\npassword = "{SECRET}"\n')
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_connector_config(tmp_path / "bad.toml")
    assert SECRET not in str(err.value)
    (tmp_path / "empty.toml").write_text("[other]\n")
    with pytest.raises(ConfigError, match=r"has no \[connector\] table"):
        load_connector_config(tmp_path / "empty.toml")


def test_an_order_spec_takes_our_order_and_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="quantity"):
        OrderSpec(reference="vmi-1", site="s", sku="X", quantity=0, planned_date="2026-01-01")
    with pytest.raises(ValueError, match="reference"):
        OrderSpec(reference="vmi 1; drop", site="s", sku="X", quantity=1, planned_date="2026-01-01")
