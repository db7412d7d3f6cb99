"""Chafon CF-RU5102-class UHF readers (UHFReader18 binary protocol) on a serial port.

`protocol` is the pure frame codec; `driver` adapts it to pyserial. See README.md.
"""

from edge_agent.drivers.chafon.driver import ChafonConfig, ChafonReader, ReaderStats
from edge_agent.drivers.chafon.protocol import (
    BROADCAST,
    Command,
    FrameSplitter,
    ReaderInfo,
    Response,
    SplitterStats,
    Status,
    crc16_mcrf4xx,
    encode_command,
    encode_inventory,
    encode_response,
    parse_inventory,
    parse_reader_info,
    parse_response,
)

__all__ = [
    "BROADCAST",
    "ChafonConfig",
    "ChafonReader",
    "Command",
    "FrameSplitter",
    "ReaderInfo",
    "ReaderStats",
    "Response",
    "SplitterStats",
    "Status",
    "crc16_mcrf4xx",
    "encode_command",
    "encode_inventory",
    "encode_response",
    "parse_inventory",
    "parse_reader_info",
    "parse_response",
]
