"""The one place connectors register: config model and constructor per `kind`, and
reading a `[connector]` table into a validated config.

    config = load_connector_config("erp.toml")      # the file's [connector] table
    connector = open_connector(config)               # an OdooConnector, ErpNextConnector, ...
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from cloud.connectors.base import Connector
from cloud.connectors.config import ConnectorConfig
from cloud.connectors.erpnext import ErpNextConfig, ErpNextConnector
from cloud.connectors.fxiaoke import FxiaokeConfig, FxiaokeConnector
from cloud.connectors.odoo import OdooConfig, OdooConnector
from cloud.connectors.zoho_crm import ZohoCrmConfig, ZohoCrmConnector
from vmi.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ConnectorKind:
    """A registered kind: its config model, its constructor and a one-line summary."""

    config: type[ConnectorConfig]
    factory: Callable[[Any, httpx.Client | None], Connector]
    summary: str


CONNECTORS: Mapping[str, ConnectorKind] = {
    "odoo": ConnectorKind(
        OdooConfig, OdooConnector, "Odoo purchase.order / sale.order (JSON-RPC or XML-RPC)"
    ),
    "erpnext": ConnectorKind(
        ErpNextConfig,
        ErpNextConnector,
        "ERPNext Purchase Order / Sales Order / Material Request (REST)",
    ),
    "zoho_crm": ConnectorKind(
        ZohoCrmConfig,
        ZohoCrmConnector,
        "Zoho CRM Sales_Orders / Purchase_Orders (records API v8, OAuth 2 refresh token)",
    ),
    "fxiaoke": ConnectorKind(
        FxiaokeConfig,
        FxiaokeConnector,
        "Fxiaoke / 纷享销客 SalesOrderObj (OpenAPI, corp access token)",
    ),
}


def known_kinds() -> list[str]:
    return sorted(CONNECTORS)


def connector_config(table: Mapping[str, Any], where: str = "[connector]") -> ConnectorConfig:
    """Validate a `[connector]` table; a `ConfigError` (one line, no values echoed) if wrong."""
    kind = table.get("kind")
    if not isinstance(kind, str):
        raise ConfigError(f"{where}: set kind to one of {', '.join(known_kinds())}")
    info = CONNECTORS.get(kind)
    if info is None:
        raise ConfigError(f"{where}: unknown kind {kind!r}; available: {', '.join(known_kinds())}")
    try:
        return info.config.model_validate(dict(table))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or kind}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"{where} ({kind}): {problems}") from None


def load_connector_config(path: str | Path) -> ConnectorConfig:
    """Read the `[connector]` table of a TOML file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read connector config {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # The decode error names a line and column, never the text there.
        raise ConfigError(f"connector config {path} is not valid TOML: {exc}") from None
    table = data.get("connector")
    if not isinstance(table, dict):
        raise ConfigError(f"connector config {path} has no [connector] table")
    return connector_config(table, f"{path} [connector]")


def open_connector(config: ConnectorConfig, *, http: httpx.Client | None = None) -> Connector:
    """The connector `config` describes (secrets read now). `http`: send with this client."""
    return CONNECTORS[config.kind].factory(config, http)
