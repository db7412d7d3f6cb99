"""The service's `[connectors]` section: which systems receive which orders.

    [connectors]
    allow_private = ["10.20.0.0/16"]      # ERPs on a private network (an admin's choice)
    poll_s = 300                          # how often remote states are read back

    [[connectors.systems]]
    name = "acme-odoo"                    # names the link in logs, the ledger and the API
    config = "/etc/vmi/acme-odoo.toml"    # a file with a [connector] table (as for
                                          # `vmi connector check`), or an inline table:
    # connector = { kind = "erpnext", url = "...", ... }
    suppliers = ["ACME"]                  # only orders of these suppliers (empty: all)
    customers = []                        # ... of sites of these customers
    sites = []                            # ... of these sites
    push = ["create", "confirm", "ship", "cancel"]
    pull = true                           # remote confirmations, shipments, receipts and
                                          # cancellations move our orders

The `[connector]` tables are validated here, at start-up, by the registry
(`cloud.connectors.registry.connector_config`); secrets are read when the
service opens the connectors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cloud.connectors.config import ConnectorConfig
from cloud.connectors.registry import connector_config, load_connector_config
from vmi.errors import ConfigError

Action = Literal["create", "confirm", "ship", "cancel"]
ACTIONS: tuple[Action, ...] = ("create", "confirm", "ship", "cancel")
"""What the service can carry to a remote record, in the order it happens."""

LINK_NAME = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class _Strict(BaseModel):
    # Tables here hold secrets: errors never echo the input.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class ConnectorLink(_Strict):
    """One system the service sends orders to, and which orders."""

    name: str = Field(pattern=LINK_NAME, description="A short unique name, e.g. `acme-odoo`.")
    config: Path | None = Field(
        default=None, description="A TOML file with the system's `[connector]` table."
    )
    connector: ConnectorConfig | None = Field(
        default=None, description="The `[connector]` table inline (instead of `config`)."
    )
    suppliers: tuple[str, ...] = Field(
        default=(), description="Only orders managed by these suppliers; empty: any."
    )
    customers: tuple[str, ...] = Field(
        default=(), description="Only orders for sites of these customers; empty: any."
    )
    sites: tuple[str, ...] = Field(
        default=(), description="Only orders of these sites; empty: any."
    )
    push: tuple[Action, ...] = Field(
        default=ACTIONS, description="Which of our changes go to the remote record."
    )
    pull: bool = Field(
        default=True,
        description="Read remote states back (every `poll_s`) and move our orders to match.",
    )
    reference_prefix: str = Field(
        default="vmi",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$",
        description="Our order reference in the remote system is `<prefix>-<order id>`.",
    )

    @field_validator("connector", mode="before")
    @classmethod
    def _connector(cls, table: object) -> object:
        if table is None or isinstance(table, ConnectorConfig):
            return table
        if not isinstance(table, dict):
            raise ValueError("must be a table with a kind")
        try:
            return connector_config(table, "connector")
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _one_source(self) -> ConnectorLink:
        if (self.config is None) == (self.connector is None):
            raise ValueError("set exactly one of config (a file) or connector (a table)")
        if "create" not in self.push and self.push:
            # Updates need the remote record: without create we never know its id.
            raise ValueError("push without create: the other steps need the record it makes")
        return self

    def resolved(self) -> ConnectorConfig:
        """The `[connector]` table: inline, or read (and validated) from `config`."""
        if self.connector is not None:
            return self.connector
        assert self.config is not None
        return load_connector_config(self.config)

    def wants(self, site: str, supplier: str | None, customer: str | None) -> bool:
        """True if an order of `site`, managed by `supplier`, for `customer` goes here."""
        if self.sites and site not in self.sites:
            return False
        if self.suppliers and supplier not in self.suppliers:
            return False
        return not (self.customers and customer not in self.customers)


class ConnectorsConfig(_Strict):
    """The `[connectors]` section."""

    systems: tuple[ConnectorLink, ...] = Field(
        default=(), description="The systems orders go to; empty: none."
    )
    allow_private: list[str] = Field(
        default_factory=list,
        description="Networks (CIDR or address) and host names connectors may reach although "
        "they are not public (an ERP on the company network); empty: public addresses only.",
    )
    poll_s: float = Field(
        default=300.0, ge=1, le=86_400, description="Seconds between reads of remote states."
    )
    idle_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Seconds between looks for changed orders (orders changed by the API "
        "process are seen within this).",
    )
    deadline_s: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="One step (its lookups and calls together) ends after this long in all.",
    )
    max_attempts: int = Field(
        default=16, ge=1, le=100, description="Attempts per delivery before it is given up."
    )

    @field_validator("allow_private")
    @classmethod
    def _allowlist(cls, entries: list[str]) -> list[str]:
        from cloud.notify.guard import parse_allowlist  # the webhooks' own reading

        parse_allowlist(entries)
        return entries

    @model_validator(mode="after")
    def _unique_names(self) -> ConnectorsConfig:
        names = [link.name for link in self.systems]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"connector names must be unique: {', '.join(twice)}")
        return self
