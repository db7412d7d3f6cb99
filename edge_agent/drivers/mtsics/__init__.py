"""Mettler Toledo MT-SICS balances and terminals (level 0/1) on a serial port.

`protocol` is the pure parser; `driver` adapts it to pyserial. See README.md.
"""

from edge_agent.drivers.base import FrameStats
from edge_agent.drivers.mtsics.driver import MtSicsConfig, MtSicsScale
from edge_agent.drivers.mtsics.protocol import (
    UNIT_GRAMS,
    DataResponse,
    ErrorCode,
    ErrorReply,
    Response,
    Status,
    StatusResponse,
    WeightResponse,
    encode_command,
    parse_response,
)

__all__ = [
    "UNIT_GRAMS",
    "DataResponse",
    "ErrorCode",
    "ErrorReply",
    "FrameStats",
    "MtSicsConfig",
    "MtSicsScale",
    "Response",
    "Status",
    "StatusResponse",
    "WeightResponse",
    "encode_command",
    "parse_response",
]
