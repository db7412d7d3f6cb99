"""Zoho CRM connector: Sales Orders or Purchase Orders over the records API v8, with an
OAuth 2 refresh token. See README.md beside this file."""

from cloud.connectors.zoho_crm.config import ZohoCrmConfig, ZohoStates
from cloud.connectors.zoho_crm.connector import ZohoCrmConnector

__all__ = ["ZohoCrmConfig", "ZohoCrmConnector", "ZohoStates"]
