"""Sartorius balances speaking SBI (Sartorius Balance Interface) on a serial port.

`protocol` is the pure parser; `driver` adapts it to pyserial. See README.md.
"""

from edge_agent.drivers.base import FrameStats
from edge_agent.drivers.sartorius.driver import SartoriusConfig, SartoriusScale
from edge_agent.drivers.sartorius.protocol import (
    UNIT_GRAMS,
    Command,
    ErrorFrame,
    Frame,
    Special,
    SpecialFrame,
    WeightFrame,
    encode_command,
    parse_frame,
)

__all__ = [
    "UNIT_GRAMS",
    "Command",
    "ErrorFrame",
    "Frame",
    "FrameStats",
    "SartoriusConfig",
    "SartoriusScale",
    "Special",
    "SpecialFrame",
    "WeightFrame",
    "encode_command",
    "parse_frame",
]
