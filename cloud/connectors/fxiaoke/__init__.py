"""Fxiaoke (纷享销客) connector: sales orders (SalesOrderObj) over Fxiaoke's OpenAPI with a
corp access token. See README.md beside this file."""

from cloud.connectors.fxiaoke.config import FxiaokeConfig
from cloud.connectors.fxiaoke.connector import FxiaokeConnector

__all__ = ["FxiaokeConfig", "FxiaokeConnector"]
