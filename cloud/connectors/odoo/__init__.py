"""Odoo connector: purchase or sales orders over the external API (JSON-RPC or XML-RPC).
See README.md beside this file."""

from cloud.connectors.odoo.config import OdooConfig
from cloud.connectors.odoo.connector import OdooConnector

__all__ = ["OdooConfig", "OdooConnector"]
