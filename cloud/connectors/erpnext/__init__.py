"""ERPNext connector: Purchase Orders, Sales Orders or Material Requests over Frappe's REST
API. See README.md beside this file."""

from cloud.connectors.erpnext.config import ErpNextConfig
from cloud.connectors.erpnext.connector import ErpNextConnector

__all__ = ["ErpNextConfig", "ErpNextConnector"]
