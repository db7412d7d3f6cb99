"""ERP/CRM connectors: our orders as records in the other side's business system.

* `base`: `OrderSpec` (what we send), `RemoteRef` (where it landed: store it on
  the order), `OrderChange`, `RemoteStatus`, and the `Connector` protocol;
* `errors`: `ConnectorError` and its outcomes (`AuthFailed`, `RateLimited`,
  `Unavailable`, `Rejected`, `RemoteNotFound`, `UnsupportedChange`), each
  saying whether a retry may help;
* `config`: what every kind's `[connector]` table shares, secrets from the
  table, a file or the environment;
* `registry`: kind -> (config model, constructor); `load_connector_config`,
  `open_connector`;
* `settings`, `models`, `ledger`, `plan`, `sync`: the service's side: which
  orders go where, the steps each order owes each system in SQL, and the
  worker that sends them and reads remote states back;
* `http`: one HTTP exchange, transport failures as `Unavailable`;
* one folder per system (`odoo/`, `erpnext/`, `zoho_crm/`, `fxiaoke/`), each with a README and a
  sample.toml; `cli`: `vmi connector check`.
"""

from cloud.connectors.base import (
    Connector,
    OrderChange,
    OrderSpec,
    RemoteRef,
    RemoteStatus,
    reference_for,
)
from cloud.connectors.config import ConnectorConfig
from cloud.connectors.errors import (
    AddressRefused,
    AuthFailed,
    ConnectorError,
    RateLimited,
    Rejected,
    RemoteNotFound,
    Unavailable,
    UnsupportedChange,
)
from cloud.connectors.registry import (
    CONNECTORS,
    ConnectorKind,
    connector_config,
    known_kinds,
    load_connector_config,
    open_connector,
)

__all__ = [
    "CONNECTORS",
    "AddressRefused",
    "AuthFailed",
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "ConnectorKind",
    "OrderChange",
    "OrderSpec",
    "RateLimited",
    "Rejected",
    "RemoteNotFound",
    "RemoteRef",
    "RemoteStatus",
    "Unavailable",
    "UnsupportedChange",
    "connector_config",
    "known_kinds",
    "load_connector_config",
    "open_connector",
    "reference_for",
]
